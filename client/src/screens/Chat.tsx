/** The conversation: videos, messages, the message box, Skip / End, and Report / Block. */
import { Show, createSignal } from 'solid-js';
import { ReportPanel } from '../components/ReportPanel';
import { Composer } from '../components/Composer';
import { MessageList } from '../components/MessageList';
import { VideoView } from '../components/VideoView';
import { useStores } from '../stores/context';

export default function Chat() {
  const { match, actions, call, devices } = useStores();
  const partner = () => match.match()?.partnerName || 'Stranger';
  const [reporting, setReporting] = createSignal(false);
  const deviceWarning = () => (devices.devices().cameras && devices.devices().microphones ? '' : devices.report());

  return (
    <main class="screen chat" data-testid="screen-chat">
      <header class="chat-header">
        <h2>
          You're talking to <span data-testid="partner-name">{partner()}</span>
        </h2>
        <span class="call-state">{match.server.state === 'IN_CALL' ? 'Connected' : 'Connecting...'}</span>
      </header>

      <section class="videos" aria-label="Video">
        <VideoView stream={call.remoteStream()} label={partner()} testId="remote-video" />
        <VideoView stream={call.localStream()} muted label="You" testId="local-video" />
      </section>
      <Show when={call.status() || deviceWarning()}>
        <p class="media-status" data-testid="media-status" role="status">
          {[call.status(), deviceWarning()].filter(Boolean).join(' ')}
        </p>
      </Show>

      <MessageList messages={match.messages} partnerName={partner()} />
      <p class="typing" aria-live="polite" data-testid="typing">
        {match.partnerTyping() ? `${partner()} is typing...` : ''}
      </p>
      <Composer onSend={actions.send} onTyping={actions.typing} />

      <div class="actions">
        <button type="button" data-testid="skip" onClick={() => void actions.skip()} disabled={!!actions.busy()}>
          Skip
        </button>
        <button type="button" class="danger" data-testid="end" onClick={() => void actions.end()} disabled={!!actions.busy()}>
          End
        </button>
        <button type="button" data-testid="report" onClick={() => setReporting(!reporting())} disabled={!!actions.busy()} aria-expanded={reporting()}>
          Report
        </button>
        <button type="button" data-testid="block" onClick={() => void actions.block()} disabled={!!actions.busy()}>
          Block
        </button>
      </div>
      <Show when={reporting()}>
        <ReportPanel busy={!!actions.busy()} onCancel={() => setReporting(false)} onSubmit={(r) => void actions.report(r).then(() => setReporting(false))} />
      </Show>
    </main>
  );
}
