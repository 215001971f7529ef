/**
 * Find a person (by exact id, or by name) and act on them; find a match by id and end it; pause
 * or resume a pool. What each role may do decides which controls are there at all.
 */
import { For, Show, createSignal } from 'solid-js';
import type { LookupHit } from '../api';
import { messageOf } from '../api';
import { when } from '../format';
import { MatchTools } from '../parts/MatchTools';
import { PoolTools } from '../parts/PoolTools';
import { UserDetail } from '../parts/UserDetail';
import { useConsole } from '../store';

export default function Lookup() {
  const { api, can } = useConsole();
  const [query, setQuery] = createSignal('');
  const [hits, setHits] = createSignal<LookupHit[] | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [selected, setSelected] = createSignal<string | null>(null);

  async function search(e: SubmitEvent) {
    e.preventDefault();
    const q = query().trim();
    if (!q) return;
    setError(null);
    try {
      const found = await api.call('admin.lookup', { query: q });
      setHits(found);
      if (found.length === 1) setSelected(found[0]!.userId);
    } catch (err) {
      setError(messageOf(err));
    }
  }

  return (
    <>
      <section class="card panel" aria-labelledby="find-user-h">
        <h2 id="find-user-h">Find a person</h2>
        <form class="row" role="search" aria-label="Find a person" onSubmit={(e) => void search(e)}>
          <label for="lookup-query" class="sr-only">
            User id or name
          </label>
          <input
            id="lookup-query"
            type="text"
            placeholder="User id or name"
            maxLength={100}
            data-testid="lookup-query"
            value={query()}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
          <button type="submit" class="small primary" data-testid="lookup-submit">
            Search
          </button>
        </form>
        <Show when={error()}>
          <p class="error" role="alert" data-testid="lookup-error">
            {error()}
          </p>
        </Show>
        <Show when={hits()}>
          {(list) => (
            <ul class="plain hits" data-testid="lookup-results" aria-live="polite">
              <For each={list()} fallback={<li data-testid="lookup-none">Nobody online matches that id or name.</li>}>
                {(h) => (
                  <li data-testid="lookup-result" data-user-id={h.userId}>
                    <button type="button" class="small" aria-pressed={selected() === h.userId} onClick={() => setSelected(h.userId)}>
                      {h.name}
                    </button>{' '}
                    <code>{h.userId}</code> {h.state} in {h.pool}, since {when(h.since)}
                  </li>
                )}
              </For>
            </ul>
          )}
        </Show>
      </section>
      <Show when={selected()} keyed>
        {(userId) => <UserDetail userId={userId} />}
      </Show>
      <MatchTools />
      <Show when={can('admin')}>
        <PoolTools />
      </Show>
    </>
  );
}
