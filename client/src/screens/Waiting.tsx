/** In the queue: a plain message, the queue position when the server has told us, and Cancel. */
import { Show } from 'solid-js';
import { useStores } from '../stores/context';

function aboutHowLong(ms: number): string {
  if (ms < 60_000) return `about ${Math.max(1, Math.round(ms / 1000))} seconds`;
  return `about ${Math.round(ms / 60_000)} minutes`;
}

export default function Waiting() {
  const { match, actions } = useStores();
  // CONNECTING without match details: found someone, their call details are on the way.
  const found = () => match.server.state === 'CONNECTING' || match.server.state === 'IN_CALL';
  return (
    <main class="screen waiting" data-testid="screen-waiting">
      <p class="looking" role="status">
        {found() ? 'Found someone. Connecting...' : 'Looking for someone to talk to...'}
      </p>
      <Show when={!found() && match.queue().position}>
        {(p) => (
          <p class="queue" data-testid="queue-position">
            You're number {p()} in the queue
            <Show when={match.queue().estimatedWaitMs}>{(ms) => <>; expected wait {aboutHowLong(ms())}</>}</Show>.
          </p>
        )}
      </Show>
      <Show when={!found()}>
        <button type="button" data-testid="cancel" onClick={() => void actions.cancel()} disabled={actions.busy() === 'cancel'}>
          Cancel
        </button>
      </Show>
    </main>
  );
}
