/**
 * The operator console at /admin: its own lazy chunk (main.tsx picks it by path), its own
 * stylesheet on top of the app's (same colours, light and dark). Signed out it shows the login
 * form; signed in, the shell with one screen per section.
 */
import { Match, Switch, onMount } from 'solid-js';
import { ConsoleProvider, createConsoleStore } from './store';
import { Login } from './Login';
import { Shell } from './Shell';
import './admin.css';

export default function AdminApp() {
  const store = createConsoleStore();
  onMount(() => void store.check());
  return (
    <ConsoleProvider store={store}>
      <div class="console">
        <Switch>
          <Match when={!store.checked()}>
            <main class="console-loading" data-testid="console-checking">
              <h1>Rendezvous console</h1>
              <p role="status">Checking your sign-in...</p>
            </main>
          </Match>
          <Match when={!store.operator()}>
            <Login />
          </Match>
          <Match when={store.operator()}>
            <Shell />
          </Match>
        </Switch>
      </div>
    </ConsoleProvider>
  );
}
