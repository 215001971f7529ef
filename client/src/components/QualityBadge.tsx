/** The connection in a word (Good / Fair / Poor), with round trip and loss in its tooltip. */
import { Show } from 'solid-js';
import { qualityText, type Quality } from '../lib/format';

export function QualityBadge(props: { quality: Quality | null }) {
  return (
    <Show when={props.quality}>
      {(q) => (
        <span class={`quality quality-${q().level}`} data-testid="quality" title={qualityText(q()).detail}>
          <span class="bars" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          {qualityText(q()).label}
          <span class="sr-only"> ({qualityText(q()).detail})</span>
        </span>
      )}
    </Show>
  );
}
