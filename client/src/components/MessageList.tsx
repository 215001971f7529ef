/** The conversation, oldest first, kept scrolled to the newest message; each with its time. */
import { For, Show, createEffect } from 'solid-js';
import { timeOfDay } from '../lib/format';
import type { ChatMessage } from '../stores/match';
import { MessageText } from './MessageText';

const STATUS: Record<ChatMessage['status'], string> = { sending: 'Sending...', sent: '', failed: 'Not delivered' };

/** `onRetry` sends a message that was not delivered again (the same id: delivered once). */
export function MessageList(props: { messages: ChatMessage[]; partnerName: string; onRetry: (clientMessageId: string) => void }) {
  let list!: HTMLOListElement;
  createEffect(() => {
    void props.messages.length;
    list.scrollTop = list.scrollHeight;
  });
  return (
    <ol class="messages" ref={list} aria-live="polite" aria-label="Conversation" tabindex="0">
      <For each={props.messages} fallback={<li class="empty-chat">Say hello. Messages appear here.</li>}>
        {(m) => (
          <li class={`message from-${m.from}`} data-testid="message" data-from={m.from} data-status={m.status}>
            <span class="who">{m.from === 'me' ? 'You' : props.partnerName}: </span>
            <MessageText text={m.text} />
            <span class="meta">
              <Show when={m.at}>
                {(at) => (
                  <time data-testid="message-time" datetime={new Date(at()).toISOString()}>
                    {timeOfDay(at())}
                  </time>
                )}
              </Show>
              {STATUS[m.status] && <small class="status"> {STATUS[m.status]}</small>}
              <Show when={m.status === 'failed'}>
                <button type="button" class="link retry" data-testid="message-retry" onClick={() => props.onRetry(m.clientMessageId)}>
                  Try again
                </button>
              </Show>
            </span>
          </li>
        )}
      </For>
    </ol>
  );
}
