/**
 * The conversation: the partner's video first (our own in a corner), the call controls, and
 * beside it (below it on a phone) the messages, the message box, and Report / Block.
 * Esc skips, unless the person is typing (an empty message box still skips).
 */
import { Show, createSignal, onCleanup, onMount } from 'solid-js';
import { CallControls } from '../components/CallControls';
import { CallHeader } from '../components/CallHeader';
import { Composer } from '../components/Composer';
import { Icon } from '../components/Icon';
import { MediaStatus } from '../components/MediaStatus';
import { MessageList } from '../components/MessageList';
import { RemoteStage } from '../components/RemoteStage';
import { ReportPanel } from '../components/ReportPanel';
import { useStores } from '../stores/context';

function escSkips(e: KeyboardEvent): boolean {
  if (e.key !== 'Escape' || e.defaultPrevented || e.repeat) return false;
  const t = e.target as HTMLElement | null;
  if (t?.dataset.testid === 'chat-input') return !(t as HTMLInputElement).value;
  return !t?.closest('input, textarea, select, [role="dialog"], .report-panel');
}

export default function Chat() {
  const { match, actions, call } = useStores();
  const partner = () => match.match()?.partnerName || 'Stranger';
  const reconnecting = () => match.partnerReconnecting() || call.phase() === 'reconnecting';
  const [reporting, setReporting] = createSignal(false);
  // The nudity shield's "Report with this picture": one tap sends the report (reason sexual, the flagged frame, and a block).
  const reportFlagged = (snapshot: string | null) => void actions.report({ reason: 'sexual', note: '', snapshot, block: true });

  onMount(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!escSkips(e) || reporting() || actions.busy()) return;
      e.preventDefault();
      void actions.skip();
    };
    document.addEventListener('keydown', onKey);
    onCleanup(() => document.removeEventListener('keydown', onKey));
  });

  return (
    <main class="screen chat" data-testid="screen-chat">
      <CallHeader partner={partner()} reconnecting={reconnecting()} />
      <RemoteStage partner={partner()} reconnecting={reconnecting()} onReport={reportFlagged} />
      <CallControls />
      <section class="side" aria-label="Chat">
        <MediaStatus />
        <MessageList messages={match.messages} partnerName={partner()} onRetry={(id) => void actions.resend(id)} />
        <p class="typing" aria-live="polite" data-testid="typing">
          {match.partnerTyping() ? `${partner()} is typing...` : ''}
        </p>
        <Composer onSend={actions.send} onTyping={actions.typing} />
        <div class="safety-actions">
          <button
            type="button"
            class="quiet"
            data-testid="report"
            onClick={() => setReporting(!reporting())}
            disabled={!!actions.busy()}
            aria-expanded={reporting()}
          >
            <Icon name="flag" />
            Report
          </button>
          <button type="button" class="quiet" data-testid="block" onClick={() => void actions.block()} disabled={!!actions.busy()}>
            <Icon name="block" />
            Block
          </button>
        </div>
        <Show when={reporting()}>
          <ReportPanel busy={!!actions.busy()} onCancel={() => setReporting(false)} onSubmit={(r) => void actions.report(r).then(() => setReporting(false))} />
        </Show>
      </section>
    </main>
  );
}
