/** Each dependency's circuit breaker: its state, since when, and its recent changes. */
import { For, Show } from 'solid-js';
import type { Overview } from '../api';
import { when } from '../format';

export function Breakers(props: { breakers: Overview['breakers'] }) {
  return (
    <section class="card panel" aria-labelledby="breakers-h">
      <h2 id="breakers-h">Circuit breakers</h2>
      <ul class="plain" data-testid="breakers">
        <For each={props.breakers} fallback={<li>No breakers reported.</li>}>
          {(b) => (
            <li data-testid="breaker" data-state={b.state}>
              <strong>{b.dependency}</strong> <span class={`pill pill-${b.state}`}>{b.state}</span> <span class="help">since {when(b.since)}</span>
              <Show when={b.history.length > 0}>
                <details>
                  <summary>History ({b.history.length})</summary>
                  <ol class="plain">
                    <For each={b.history}>
                      {(h) => (
                        <li>
                          {when(h.at)}: {h.from} to {h.to}
                        </li>
                      )}
                    </For>
                  </ol>
                </details>
              </Show>
            </li>
          )}
        </For>
      </ul>
    </section>
  );
}
