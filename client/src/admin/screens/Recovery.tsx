/** How the system has been healing itself: dead letters to deal with, recent recoveries and checkpoints. */
import { For } from 'solid-js';
import { ms, num, when } from '../format';
import { DeadLetters } from '../parts/DeadLetters';
import { Failure } from '../parts/Failure';
import { createPoll } from '../poll';
import { useConsole } from '../store';

export default function Recovery() {
  const { api } = useConsole();
  const poll = createPoll(() => api.call('admin.recovery'), 10_000);
  return (
    <>
      <DeadLetters />
      <Failure error={poll.error()} />
      <section class="card panel table-wrap" tabindex="0" aria-labelledby="recoveries-h">
        <h2 id="recoveries-h">Recent recoveries</h2>
        <table data-testid="recoveries">
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">Failure</th>
              <th scope="col">Strategy</th>
              <th scope="col">Outcome</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={poll.data()?.recoveries}
              fallback={
                <tr>
                  <td colSpan={5}>No recoveries recorded.</td>
                </tr>
              }
            >
              {(r) => (
                <tr>
                  <td>{when(r.at)}</td>
                  <td>{r.failureType}</td>
                  <td>{r.strategy}</td>
                  <td>{r.outcome}</td>
                  <td>{ms(r.durationMs)}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </section>
      <section class="card panel table-wrap" tabindex="0" aria-labelledby="checkpoints-h">
        <h2 id="checkpoints-h">Checkpoints</h2>
        <table data-testid="checkpoints">
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">Id</th>
              <th scope="col">People</th>
              <th scope="col">Matches</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={poll.data()?.checkpoints}
              fallback={
                <tr>
                  <td colSpan={4}>No checkpoints yet.</td>
                </tr>
              }
            >
              {(c) => (
                <tr>
                  <td>{when(c.at)}</td>
                  <td>
                    <code>{c.id}</code>
                  </td>
                  <td>{num(c.users)}</td>
                  <td>{num(c.matches)}</td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </section>
    </>
  );
}
