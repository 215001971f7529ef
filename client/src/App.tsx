/**
 * The shell: banners on top, then exactly one screen, chosen by the match store from the
 * server's state. Screens are lazy chunks, preloaded right after start so a match never waits.
 */
import { Match, Suspense, Switch, lazy, onMount } from 'solid-js';
import { ConnectionBanner } from './components/ConnectionBanner';
import { NoticeBanner } from './components/NoticeBanner';
import { useStores } from './stores/context';

const Landing = lazy(() => import('./screens/Landing'));
const Waiting = lazy(() => import('./screens/Waiting'));
const Chat = lazy(() => import('./screens/Chat'));

export function App() {
  const { match } = useStores();
  onMount(() => {
    void Waiting.preload();
    void Chat.preload();
  });
  return (
    <div class="app">
      <ConnectionBanner />
      <NoticeBanner />
      <Suspense fallback={<p class="loading">Loading...</p>}>
        <Switch>
          <Match when={match.screen() === 'landing'}>
            <Landing />
          </Match>
          <Match when={match.screen() === 'waiting'}>
            <Waiting />
          </Match>
          <Match when={match.screen() === 'chat'}>
            <Chat />
          </Match>
        </Switch>
      </Suspense>
    </div>
  );
}
