/** Find a match by id (its record and transitions, from the audit trail) and, as a moderator, end it. */
import { Show, createSignal } from 'solid-js';
import { messageOf, type OutputOf } from '../api';
import { when } from '../format';
import { useConsole } from '../store';
import { Action } from './Action';

export function MatchTools() {
  const { api, can } = useConsole();
  const [id, setId] = createSignal('');
  const [found, setFound] = createSignal<OutputOf<'admin.audit.match'> | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  async function find(e?: SubmitEvent) {
    e?.preventDefault();
    if (!id().trim()) return;
    setError(null);
    try {
      setFound(await api.call('admin.audit.match', { matchId: id().trim() }));
    } catch (err) {
      setError(messageOf(err));
    }
  }
  return (
    <section class="card panel" aria-labelledby="match-h">
      <h2 id="match-h">Find a match</h2>
      <form class="row" role="search" aria-label="Find a match" onSubmit={(e) => void find(e)}>
        <label for="match-query" class="sr-only">
          Match id
        </label>
        <input
          id="match-query"
          type="text"
          placeholder="Match id"
          maxLength={100}
          data-testid="match-query"
          value={id()}
          onInput={(e) => setId(e.currentTarget.value)}
        />
        <button type="submit" class="small primary" data-testid="match-submit">
          Find
        </button>
      </form>
      <Show when={error()}>
        <p class="error" role="alert" data-testid="match-error">
          {error()}
        </p>
      </Show>
      <Show when={found()}>
        {(f) => (
          <div data-testid="match-detail">
            <Show when={f().match} fallback={<p>No match with that id in the audit trail yet.</p>}>
              {(m) => (
                <p>
                  <code>{m().id}</code> started {when(m().createdAt)}
                  {m().endedAt ? `, ended ${when(m().endedAt)} (${m().endReason ?? 'no reason'})` : ', still going'}; {f().transitions.length} state changes.
                </p>
              )}
            </Show>
            <Show when={can('moderator')}>
              <Action
                label="End this match"
                testid="match-end"
                reason
                run={(reason) => api.call('admin.endMatch', { matchId: id().trim(), reason })}
                done={() => void find()}
              />
            </Show>
          </div>
        )}
      </Show>
    </section>
  );
}
