/** A labelled one-line text field. */
export function TextField(props: { id: string; label: string; testid: string; value: string; set: (v: string) => void }) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        autocomplete="off"
        maxLength={200}
        data-testid={props.testid}
        value={props.value}
        onInput={(e) => props.set(e.currentTarget.value)}
      />
    </>
  );
}
