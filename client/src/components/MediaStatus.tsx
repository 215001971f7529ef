/** What is wrong with the video right now, in a sentence, and "Try camera again" after a lost device. */
import { Show } from 'solid-js';
import { useStores } from '../stores/context';

export function MediaStatus() {
  const { call, media } = useStores();
  const text = () => [call.status(), media.problem()].filter(Boolean).join(' ');
  return (
    <Show when={text() || media.lost().length}>
      <div class="media-status">
        <p data-testid="media-status" role="status">
          {text()}
        </p>
        <Show when={media.lost().length}>
          <button type="button" class="small" data-testid="try-camera" onClick={() => void media.retry()}>
            Try camera again
          </button>
        </Show>
      </div>
    </Show>
  );
}
