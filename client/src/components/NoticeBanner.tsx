/** The single notice line (what happened, or what went wrong), above every screen. */
import { Show } from 'solid-js';
import { useStores } from '../stores/context';

export function NoticeBanner() {
  const { notices } = useStores();
  return (
    <Show when={notices.notice()} keyed>
      {(n) => (
        <div class={`notice notice-${n.kind}`}>
          {/* The test id sits on the text alone, so its content is exactly the message. */}
          <p data-testid="notice" role={n.kind === 'error' ? 'alert' : 'status'}>
            {n.text}
          </p>
          <button type="button" class="dismiss" aria-label="Dismiss" onClick={() => notices.clear()}>
            ×
          </button>
        </div>
      )}
    </Show>
  );
}
