/** The message box: Enter (or the Send button) sends; every keystroke feeds the typing hint. */
import { createSignal } from 'solid-js';

export function Composer(props: { onSend: (text: string) => Promise<boolean>; onTyping: () => void; disabled?: boolean }) {
  const [text, setText] = createSignal('');

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const t = text();
    if (!t.trim()) return;
    // Cleared at once (the message shows as "Sending..."); put back if it could not be sent.
    setText('');
    void props.onSend(t).then((ok) => !ok && !text() && setText(t));
  };

  return (
    <form class="composer" onSubmit={submit}>
      <input
        type="text"
        data-testid="chat-input"
        placeholder="Type a message"
        aria-label="Message"
        maxLength={2000}
        autocomplete="off"
        value={text()}
        disabled={props.disabled}
        onInput={(e) => {
          setText(e.currentTarget.value);
          props.onTyping();
        }}
      />
      <button type="submit" data-testid="send" disabled={props.disabled}>
        Send
      </button>
    </form>
  );
}
