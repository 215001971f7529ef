/** "Connecting..." / "Reconnecting..." while the socket is down; nothing while all is well. */
import { Show } from 'solid-js';
import { useStores } from '../stores/context';

export function ConnectionBanner() {
  const { session } = useStores();
  return (
    <Show when={session.connectionText()}>
      <div class="connection" data-testid="connection" role="status">
        {session.connectionText()}
      </div>
    </Show>
  );
}
