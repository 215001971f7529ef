/** Sign-in: name and password; a refusal is the server's one sentence (the same for a wrong name or password). */
import { Show, createSignal } from 'solid-js';
import { messageOf } from './api';
import { useConsole } from './store';

export function Login() {
  const { login } = useConsole();
  const [name, setName] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(name().trim(), password());
    } catch (err) {
      setError(messageOf(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="login" data-testid="screen-login">
      <form class="card login-card" onSubmit={(e) => void submit(e)}>
        <h1>Rendezvous console</h1>
        <p class="help">Sign in with your operator name and password.</p>
        <label for="op-name">Name</label>
        <input
          id="op-name"
          type="text"
          autocomplete="username"
          required
          data-testid="login-name"
          value={name()}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <label for="op-password">Password</label>
        <input
          id="op-password"
          type="password"
          autocomplete="current-password"
          required
          data-testid="login-password"
          value={password()}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <Show when={error()}>
          <p class="error" role="alert" data-testid="login-error">
            {error()}
          </p>
        </Show>
        <button type="submit" class="primary" disabled={busy()} data-testid="login-submit">
          {busy() ? 'Signing in...' : 'Sign in'}
        </button>
        <p class="help" data-testid="login-first-admin">
          No account yet? The first admin is made on the server: <code>ADMIN_TOKEN=... npm run operator:create -- --name you</code>. That admin adds everyone
          else here.
        </p>
      </form>
    </main>
  );
}
