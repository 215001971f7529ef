/** People per state in each pool, its queue depth and whether matching is paused there. */
import { For } from 'solid-js';
import { STATES, type Overview } from '../api';
import { num } from '../format';

export function PoolTable(props: { pools: Overview['pools'] }) {
  return (
    <div class="table-wrap" tabindex="0" role="region" aria-label="People by state, per pool">
      <table data-testid="pool-table">
        <caption>People by state, per pool</caption>
        <thead>
          <tr>
            <th scope="col">Pool</th>
            <For each={STATES}>{(s) => <th scope="col">{s}</th>}</For>
            <th scope="col">Queue</th>
            <th scope="col">Matching</th>
          </tr>
        </thead>
        <tbody>
          <For
            each={props.pools}
            fallback={
              <tr>
                <td colSpan={STATES.length + 3}>Nobody is in any pool.</td>
              </tr>
            }
          >
            {(p) => (
              <tr data-testid="pool-row" data-pool={p.pool}>
                <th scope="row">{p.pool}</th>
                <For each={STATES}>{(s) => <td data-testid={`pool-${s}`}>{num(p.byState[s] ?? 0)}</td>}</For>
                <td data-testid="pool-queue">{num(p.queueDepth)}</td>
                <td>{p.paused ? 'Paused' : 'On'}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
    </div>
  );
}
