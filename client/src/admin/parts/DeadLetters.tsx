/** Audit records and other operations the server gave up retrying: write again, or discard (admins). */
import { For, Show } from 'solid-js';
import { when } from '../format';
import { createPoll } from '../poll';
import { useConsole } from '../store';
import { Action } from './Action';
import { Failure } from './Failure';

export function DeadLetters() {
  const { api, can } = useConsole();
  const poll = createPoll(() => api.call('admin.deadLetters.list', { status: 'pending', limit: 50 }), 10_000);
  const refresh = () => void poll.refresh();
  return (
    <section class="card panel" aria-labelledby="dead-h">
      <h2 id="dead-h">Dead letters waiting ({poll.data()?.length ?? '…'})</h2>
      <Failure error={poll.error()} />
      <ul class="plain cards" data-testid="dead-letters">
        <For each={poll.data()} fallback={<li>No dead letters waiting.</li>}>
          {(d) => (
            <li class="dead-letter" data-testid="dead-letter" data-id={d.id}>
              <p>
                <code>{d.id}</code> ({d.source}
                {d.kind ? `, ${d.kind}` : ''}), {d.attempts} attempts, since {when(d.at)}
              </p>
              <p class="help">{d.error}</p>
              <Show when={can('admin')}>
                <div class="op-actions">
                  <Action label="Retry" testid="dead-letter-retry" run={() => api.call('admin.deadLetters.retry', { id: d.id })} done={refresh} />
                  <Action label="Discard" testid="dead-letter-discard" danger run={() => api.call('admin.deadLetters.discard', { id: d.id })} done={refresh} />
                </div>
              </Show>
            </li>
          )}
        </For>
      </ul>
    </section>
  );
}
