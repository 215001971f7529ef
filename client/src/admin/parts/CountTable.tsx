/** A small name/count table (errors by category and the like), biggest first. */
import { For } from 'solid-js';
import { num } from '../format';

export function CountTable(props: { caption: string; counts: Record<string, number>; testid: string; empty: string }) {
  const rows = () => Object.entries(props.counts).sort((a, b) => b[1] - a[1]);
  return (
    <table data-testid={props.testid}>
      <caption>{props.caption}</caption>
      <thead>
        <tr>
          <th scope="col">Category</th>
          <th scope="col">Count</th>
        </tr>
      </thead>
      <tbody>
        <For
          each={rows()}
          fallback={
            <tr>
              <td colSpan={2}>{props.empty}</td>
            </tr>
          }
        >
          {([name, n]) => (
            <tr>
              <th scope="row">{name}</th>
              <td>{num(n)}</td>
            </tr>
          )}
        </For>
      </tbody>
    </table>
  );
}
