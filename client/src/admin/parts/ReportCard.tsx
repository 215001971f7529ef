/** One open report with its evidence (note, the chat as it was, the picture if one was sent) and, for moderators, the decision. */
import { For, Show, createSignal } from 'solid-js';
import type { OutputOf } from '../api';
import { when } from '../format';
import { useConsole } from '../store';
import { Action } from './Action';
import { DurationSelect } from './DurationSelect';

type Report = OutputOf<'admin.moderation.reports'>[number];
type Line = { at?: number; from?: string; text?: string; masked?: boolean };

export function ReportCard(props: { report: Report; refresh: () => void }) {
  const { api, can } = useConsole();
  const [banFor, setBanFor] = createSignal<number | null>(7 * 86_400_000);
  const r = () => props.report;
  const transcript = () => (Array.isArray(r().transcript) ? (r().transcript as Line[]) : []);
  return (
    <li class="card panel report" data-testid="report" data-report-id={r().id} data-reported-id={r().reportedId}>
      <h3>
        <span class={`pill pill-${r().reason}`}>{r().reason}</span> about <code>{r().reportedId}</code>
      </h3>
      <p class="help">
        Reported {when(r().at)} by <code>{r().reporterId}</code> in match <code>{r().matchId}</code> ({r().pool})
      </p>
      <Show when={r().note}>
        <blockquote data-testid="report-note">{r().note}</blockquote>
      </Show>
      <Show when={r().snapshot}>
        <img
          class="evidence"
          data-testid="report-picture"
          src={`data:${r().snapshotType ?? 'image/jpeg'};base64,${r().snapshot}`}
          alt={`Frame of ${r().reportedId}'s video sent with the report`}
        />
      </Show>
      <details>
        <summary>Chat at the time ({transcript().length} messages)</summary>
        <ol class="plain transcript">
          <For each={transcript()}>
            {(l) => (
              <li>
                <code>{l.from}</code>: {l.text}
                {l.masked ? ' (masked)' : ''}
              </li>
            )}
          </For>
        </ol>
      </details>
      <Show when={can('moderator')}>
        <div class="op-actions" role="group" aria-label="Decide this report">
          <Action
            label="Dismiss"
            testid="report-dismiss"
            reason
            run={(reason) => api.call('admin.moderation.decide', { reportId: r().id, decision: 'dismiss', reason })}
            done={props.refresh}
          />
          <Action
            label="Ban the reported person"
            testid="report-ban"
            danger
            reason
            run={(reason) => api.call('admin.moderation.decide', { reportId: r().id, decision: 'ban', reason, durationMs: banFor() })}
            done={props.refresh}
          >
            <DurationSelect value={banFor()} onChange={setBanFor} testid="report-ban-duration" />
          </Action>
        </div>
      </Show>
    </li>
  );
}
