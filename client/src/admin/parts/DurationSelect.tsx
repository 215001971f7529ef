/** How long a ban lasts: one of the offered durations, or for good (null). */
import { For, createUniqueId } from 'solid-js';
import { DURATIONS } from '../format';

export function DurationSelect(props: { value: number | null; onChange: (ms: number | null) => void; testid: string }) {
  const id = createUniqueId();
  return (
    <>
      <label for={id}>For how long</label>
      <select
        id={id}
        data-testid={props.testid}
        value={String(props.value)}
        onChange={(e) => props.onChange(e.currentTarget.value === 'null' ? null : Number(e.currentTarget.value))}
      >
        <For each={DURATIONS}>{(d) => <option value={String(d.ms)}>{d.label}</option>}</For>
      </select>
    </>
  );
}
