/** The chat screen's heading: who, what the call is doing now, how long, how well, and what you share. */
import { Show } from 'solid-js';
import { callStateText, sharedText } from '../lib/format';
import { useStores } from '../stores/context';
import { CallTimer } from './CallTimer';
import { QualityBadge } from './QualityBadge';

export function CallHeader(props: { partner: string; reconnecting: boolean }) {
  const { call, match, media } = useStores();
  const state = () => callStateText(call.phase(), props.reconnecting, !media.stream());
  return (
    <header class="chat-header">
      <div class="who">
        <h1>
          You're talking to <span data-testid="partner-name">{props.partner}</span>
        </h1>
        <Show when={sharedText(match.match()?.sharedInterests ?? [])}>
          {(text) => (
            <p class="shared" data-testid="shared-interests">
              {text()}
            </p>
          )}
        </Show>
      </div>
      <div class="call-meta">
        <span class="call-state" classList={{ warn: props.reconnecting }} data-testid="call-state" role="status">
          {state()}
        </span>
        <CallTimer since={call.connectedAt()} />
        <QualityBadge quality={call.quality()} />
      </div>
    </header>
  );
}
