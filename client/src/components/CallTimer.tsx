/** How long this call has been connected (m:ss), ticking once a second; nothing before it connects. */
import { Show, createSignal, onCleanup } from 'solid-js';
import { clock } from '../lib/format';

export function CallTimer(props: { since: number | null }) {
  const [now, setNow] = createSignal(Date.now());
  const timer = setInterval(() => setNow(Date.now()), 1000);
  onCleanup(() => clearInterval(timer));
  return (
    <Show when={props.since}>
      {(since) => (
        <span class="call-timer" data-testid="call-timer" aria-label="Call length">
          {clock(now() - since())}
        </span>
      )}
    </Show>
  );
}
