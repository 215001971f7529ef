/** One headline figure: a label and its value, as a description-list pair. */
export function Stat(props: { label: string; value: string; testid: string; tone?: 'bad' | 'good' }) {
  return (
    <div class="stat" data-tone={props.tone}>
      <dt>{props.label}</dt>
      <dd data-testid={props.testid}>{props.value}</dd>
    </div>
  );
}
