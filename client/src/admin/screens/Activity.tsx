/** The operator action log: every mutation any operator made, newest first, with its outcome. */
import { For, createSignal } from 'solid-js';
import { when } from '../format';
import { Failure } from '../parts/Failure';
import { createPoll } from '../poll';
import { useConsole } from '../store';

export default function Activity() {
  const { api } = useConsole();
  const [target, setTarget] = createSignal('');
  const poll = createPoll(() => api.call('operators.actions', { limit: 200, ...(target().trim() ? { target: target().trim() } : {}) }), 10_000);
  return (
    <>
      <form class="row toolbar" role="search" aria-label="Filter the log" onSubmit={(e) => (e.preventDefault(), void poll.refresh())}>
        <label for="activity-target">Target (user, match or pool id)</label>
        <input id="activity-target" type="text" data-testid="activity-target" value={target()} onInput={(e) => setTarget(e.currentTarget.value)} />
        <button type="submit" class="small">
          Filter
        </button>
      </form>
      <Failure error={poll.error()} />
      <div class="card panel table-wrap" tabindex="0" role="region" aria-label="Operator actions">
        <table data-testid="activity">
          <caption class="sr-only">Operator actions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">At</th>
              <th scope="col">Operator</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            <For
              each={poll.data()}
              fallback={
                <tr>
                  <td colSpan={5}>No actions recorded.</td>
                </tr>
              }
            >
              {(a) => (
                <tr data-testid="activity-row" data-action={a.action} data-outcome={a.outcome}>
                  <td>{when(a.at)}</td>
                  <td>
                    {a.operator} <span class="role-badge">{a.role}</span>
                  </td>
                  <td>
                    <code>{a.action}</code>
                  </td>
                  <td>{a.target ? <code>{a.target}</code> : '—'}</td>
                  <td>
                    {a.outcome}
                    {a.errorCode ? ` (${a.errorCode})` : ''}
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
    </>
  );
}
