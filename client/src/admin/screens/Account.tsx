/**
 * Your account, for every role: a new password, given the current one. On success the server
 * ends this operator's other sessions (a browser left signed in elsewhere); this one stays.
 */
import { Show, createSignal } from 'solid-js';
import { messageOf } from '../api';
import { useConsole } from '../store';

/** The server's minimum (server/operators/passwords.ts), checked here too so the form says so first. */
const MIN_LENGTH = 12;

export default function Account() {
  const { api, operator } = useConsole();
  const [current, setCurrent] = createSignal('');
  const [next, setNext] = createSignal('');
  const [repeat, setRepeat] = createSignal('');
  const [result, setResult] = createSignal<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = createSignal(false);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    if (next() !== repeat()) return setResult({ ok: false, text: "The new password and its repeat don't match." });
    setBusy(true);
    try {
      await api.call('operators.changePassword', { current: current(), next: next() });
      setResult({ ok: true, text: 'Password changed. Your other sessions have been signed out.' });
      setCurrent('');
      setNext('');
      setRepeat('');
    } catch (err) {
      setResult({ ok: false, text: messageOf(err) });
    } finally {
      setBusy(false);
    }
  }

  const field = (id: string, label: string, value: () => string, set: (v: string) => void, autocomplete: string, min?: number) => (
    <>
      <label for={id}>{label}</label>
      <input
        id={id}
        type="password"
        required
        minLength={min}
        maxLength={256}
        autocomplete={autocomplete}
        data-testid={id}
        value={value()}
        onInput={(e) => set(e.currentTarget.value)}
      />
    </>
  );

  return (
    <section class="card panel" aria-labelledby="password-h">
      <h2 id="password-h">Your password</h2>
      <p class="help">Signed in as {operator()?.name}.</p>
      <form class="grid-form" onSubmit={(e) => void submit(e)}>
        {field('password-current', 'Current password', current, setCurrent, 'current-password')}
        {field('password-next', `New password (${MIN_LENGTH} characters or more)`, next, setNext, 'new-password', MIN_LENGTH)}
        {field('password-repeat', 'New password again', repeat, setRepeat, 'new-password', MIN_LENGTH)}
        <button type="submit" class="small primary" data-testid="password-submit" disabled={busy()}>
          Change password
        </button>
      </form>
      <Show when={result()}>
        {(r) => (
          <p class={r().ok ? 'done' : 'error'} role={r().ok ? 'status' : 'alert'} data-testid="password-result">
            {r().text}
          </p>
        )}
      </Show>
    </section>
  );
}
