/** What a banned person sees instead of any other screen: the rule, when the ban ends, and a form to appeal it. */
import { Show, createSignal } from 'solid-js';
import { errorText, type BanReceipt as Receipt } from '../api/errors';
import { useStores } from '../stores/context';

// The server's bounds on an appeal's text (safety.appeal).
const MIN_TEXT = 10;
const MAX_TEXT = 2000;

function until(endsAt: number | null): string {
  if (endsAt === null) return 'for good';
  return `until ${new Date(endsAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`;
}

export default function BanReceipt(props: { receipt: Receipt }) {
  const { session } = useStores();
  const [text, setText] = createSignal('');
  const [sending, setSending] = createSignal(false);
  const [sent, setSent] = createSignal(false);
  const [problem, setProblem] = createSignal('');

  const send = async (e: SubmitEvent) => {
    e.preventDefault();
    const t = text().trim();
    if (t.length < MIN_TEXT) return void setProblem(`Please write at least ${MIN_TEXT} characters.`);
    setSending(true);
    setProblem('');
    try {
      await session.appeal(props.receipt.receiptId, t);
      setSent(true);
    } catch (err) {
      setProblem(errorText(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <main class="screen ban" data-testid="screen-ban">
      <h1>You can't use Rendezvous {until(props.receipt.endsAt)}</h1>
      <p class="lead" data-testid="ban-reason">
        Why: {props.receipt.reason}.
      </p>
      <p>
        Your receipt: <code data-testid="ban-receipt">{props.receipt.receiptId}</code>
      </p>
      <Show
        when={!sent()}
        fallback={
          <p role="status" data-testid="appeal-sent">
            Thank you. Your appeal was sent, and a moderator will read it.
          </p>
        }
      >
        <form class="appeal-form" onSubmit={(e) => void send(e)}>
          <label>
            If you think this is a mistake, tell us why
            <textarea
              data-testid="appeal-text"
              minLength={MIN_TEXT}
              maxLength={MAX_TEXT}
              rows={5}
              value={text()}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </label>
          <Show when={problem()}>
            <p role="alert" data-testid="appeal-problem">
              {problem()}
            </p>
          </Show>
          <button type="submit" disabled={sending()} data-testid="appeal-send">
            Send appeal
          </button>
        </form>
      </Show>
    </main>
  );
}
