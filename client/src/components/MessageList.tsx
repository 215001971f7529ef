/** The conversation, oldest first, kept scrolled to the newest message. */
import { For, createEffect } from 'solid-js';
import type { ChatMessage } from '../stores/match';

const STATUS: Record<ChatMessage['status'], string> = { sending: 'Sending...', sent: '', failed: 'Not delivered' };

export function MessageList(props: { messages: ChatMessage[]; partnerName: string }) {
  let list!: HTMLOListElement;
  createEffect(() => {
    void props.messages.length;
    list.scrollTop = list.scrollHeight;
  });
  return (
    <ol class="messages" ref={list} aria-live="polite" aria-label="Conversation">
      <For each={props.messages}>
        {(m) => (
          <li class={`message from-${m.from}`} data-testid="message" data-from={m.from} data-status={m.status}>
            <span class="who">{m.from === 'me' ? 'You' : props.partnerName}: </span>
            <span class="text">{m.text}</span>
            {STATUS[m.status] && <small class="status"> {STATUS[m.status]}</small>}
          </li>
        )}
      </For>
    </ol>
  );
}
