/** A person's recent transitions, matches and sanctions, each collapsed under its count. */
import { For } from 'solid-js';
import type { UserDetail } from '../api';
import { when } from '../format';

export function UserHistory(props: { detail: UserDetail }) {
  return (
    <div class="history">
      <details data-testid="user-transitions">
        <summary>State changes ({props.detail.history.length})</summary>
        <div class="table-wrap" tabindex="0" role="region" aria-label="State changes">
          <table>
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Reason</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              <For each={props.detail.history}>
                {(h) => (
                  <tr>
                    <td>{when(h.at)}</td>
                    <td>{h.fromState}</td>
                    <td>{h.toState}</td>
                    <td>{h.reason ?? '—'}</td>
                    <td>{h.actor ?? '—'}</td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </details>
      <details data-testid="user-matches">
        <summary>Matches ({props.detail.matches.length})</summary>
        <ul class="plain">
          <For each={props.detail.matches}>
            {(m) => (
              <li>
                <code>{m.id}</code> {when(m.createdAt)}
                {m.endedAt ? `, ended: ${m.endReason ?? 'no reason'}` : ', still going'}
              </li>
            )}
          </For>
        </ul>
      </details>
      <details data-testid="user-sanctions">
        <summary>Sanctions ({props.detail.moderation.length})</summary>
        <ul class="plain">
          <For each={props.detail.moderation}>
            {(a) => (
              <li>
                {when(a.at)}: {a.action} by {a.actor}: {a.reason}
                {a.endsAt ? ` (until ${when(a.endsAt)})` : ''}
              </li>
            )}
          </For>
        </ul>
      </details>
    </div>
  );
}
