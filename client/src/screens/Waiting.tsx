/** In the queue: what is happening, the queue position and an honest estimate, your preview, and Cancel. */
import { Show } from 'solid-js';
import { VideoView } from '../components/VideoView';
import { waitText } from '../lib/format';
import { useStores } from '../stores/context';

export default function Waiting() {
  const { match, actions, media } = useStores();
  // CONNECTING without match details: found someone, their call details are on the way.
  const found = () => match.server.state === 'CONNECTING' || match.server.state === 'IN_CALL';
  return (
    <main class="screen waiting" data-testid="screen-waiting">
      <div class="waiting-card">
        <div class="pulse" aria-hidden="true">
          <Show when={media.videoTrack() && !media.cameraOff()} fallback={<span class="pulse-dot" />}>
            <VideoView stream={media.stream()} muted mirrored label="You" testId="waiting-preview" class="waiting-preview" />
          </Show>
        </div>
        <h1>{found() ? 'Found someone' : 'Looking for someone'}</h1>
        <p class="looking" role="status">
          {found() ? 'Connecting you now...' : 'Hang on, we are finding someone to talk to.'}
        </p>
        <Show when={!found()}>
          <Show when={match.queue().position}>
            {(p) => (
              <p class="queue" data-testid="queue-position">
                You're number {p()} in the queue
              </p>
            )}
          </Show>
          <p class="estimate" data-testid="wait-estimate">
            {waitText(match.queue().estimatedWaitMs)}
          </p>
          <button type="button" class="pill" data-testid="cancel" onClick={() => void actions.cancel()} disabled={actions.busy() === 'cancel'}>
            Cancel
          </button>
        </Show>
      </div>
    </main>
  );
}
