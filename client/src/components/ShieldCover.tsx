/**
 * What the nudity shield puts over the partner's video: while it is blurred, why, with "Show
 * anyway" (one tap, the person's choice); once explicit frames are sustained, "Report with this
 * picture", which opens the report form with the captured frame.
 */
import { Show } from 'solid-js';
import type { ShieldMode } from '../shield/policy';
import type { Shield } from '../shield/shield';

export function ShieldCover(props: { shield: Shield; mode: ShieldMode; onReport: () => void }) {
  const why = () =>
    props.shield.unavailable()
      ? "We couldn't check this video, so it stays hidden."
      : props.shield.reblurred()
        ? 'Video hidden again: it may show nudity.'
        : props.mode === 'always'
          ? 'Video hidden: you chose to always hide it.'
          : 'Video hidden until it looks safe.';
  return (
    <>
      <Show when={props.shield.blurred()}>
        <div class="shield-cover" data-testid="remote-shield">
          <p role="status">{why()}</p>
          <button type="button" data-testid="shield-reveal" onClick={() => props.shield.reveal()}>
            Show anyway
          </button>
        </div>
      </Show>
      <Show when={props.shield.sustained()}>
        <button type="button" class="danger shield-report" data-testid="shield-report" onClick={() => props.onReport()}>
          Report with this picture
        </button>
      </Show>
    </>
  );
}
