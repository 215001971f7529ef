/** The microphone's level as a <meter>, measured only while this is on screen. */
import { createEffect, createSignal, onCleanup } from 'solid-js';
import { watchLevel } from '../lib/mic-level';
import { useStores } from '../stores/context';

export function MicLevel() {
  const { media } = useStores();
  const [level, setLevel] = createSignal(0);
  createEffect(() => {
    const track = media.audioTrack();
    setLevel(0);
    if (track) onCleanup(watchLevel(track, setLevel));
  });
  return (
    <meter
      class="mic-level"
      data-testid="mic-level"
      min={0}
      max={1}
      low={0.05}
      high={0.85}
      optimum={0.5}
      value={media.muted() ? 0 : level()}
      aria-label="Microphone level"
    />
  );
}
