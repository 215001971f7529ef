/**
 * The landing page's camera preview. Nothing is asked of the browser until the person presses
 * "Allow camera and microphone" (or Start); "Chat by text only" is a deliberate choice that
 * turns the camera off. A problem (denied, missing, busy) is said in words, with what to do.
 */
import { Show } from 'solid-js';
import { useStores } from '../stores/context';
import { DevicePickers } from './DevicePickers';
import { VideoView } from './VideoView';

export function CameraPreview() {
  const { media } = useStores();
  const live = () => !!media.stream();
  const hasVideo = () => !!media.videoTrack();
  // Only what is true now: nothing is claimed before the browser has said yes.
  const status = () => {
    if (!media.supported) return "Video isn't available in this browser here; you can still chat by text.";
    if (media.problem()) return media.problem();
    if (media.textOnly() || !live()) return '';
    return hasVideo() ? (media.audioTrack() ? 'Camera and microphone on.' : 'Camera on; no microphone found.') : 'Microphone on; no camera found.';
  };
  return (
    <section class="preview card" aria-label="Your camera">
      <VideoView stream={media.stream()} muted mirrored label="You" testId="preview-video" class="preview-video">
        <Show when={!hasVideo()}>
          <div class="video-placeholder">
            <Show when={!media.textOnly()} fallback={<p>Text only: your camera stays off.</p>}>
              <Show when={!live()} fallback={<p>Microphone only: no camera found.</p>}>
                <p>See yourself before you start. Your camera turns on only when you allow it.</p>
                <Show when={media.supported}>
                  <button type="button" class="primary" data-testid="allow-camera" disabled={media.acquiring()} onClick={() => void media.acquire()}>
                    Allow camera and microphone
                  </button>
                </Show>
              </Show>
            </Show>
          </div>
        </Show>
      </VideoView>
      <p class="device-status" classList={{ problem: !!media.problem() || !media.supported }} data-testid="device-status" role="status">
        {status()}
      </p>
      <label class="check">
        <input type="checkbox" data-testid="text-only" checked={media.textOnly()} onChange={(e) => media.chooseTextOnly(e.currentTarget.checked)} />
        Chat by text only
      </label>
      <Show when={live()}>
        <DevicePickers />
      </Show>
    </section>
  );
}
