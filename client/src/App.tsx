/**
 * The shell: banners on top, then exactly one screen, chosen by the match store from the
 * server's state. Screens are lazy chunks, preloaded right after start so a match never waits.
 */
import { Match, Show, Suspense, Switch, lazy, onMount } from 'solid-js';
import { ConnectionBanner } from './components/ConnectionBanner';
import { NoticeBanner } from './components/NoticeBanner';
import { useStores } from './stores/context';

const Landing = lazy(() => import('./screens/Landing'));
const Waiting = lazy(() => import('./screens/Waiting'));
const Chat = lazy(() => import('./screens/Chat'));
const BanReceipt = lazy(() => import('./screens/BanReceipt'));

export function App() {
  const { match, session } = useStores();
  onMount(() => {
    void Waiting.preload();
    void Chat.preload();
  });
  return (
    <div class="app">
      {/* A labelled region, so the banners sit in a landmark like everything else (axe: region). */}
      <section class="banners" aria-label="Status">
        {/* Banned, there is no connection to report on, and the receipt says everything. */}
        <Show when={!session.ban()}>
          <ConnectionBanner />
          <NoticeBanner />
        </Show>
        <Show when={session.checking()}>
          <p class="loading" role="status" data-testid="checking">
            Checking your browser...
          </p>
        </Show>
      </section>
      <Suspense
        fallback={
          <main class="screen loading">
            <h1 class="sr-only">Rendezvous</h1>
            <p>Loading...</p>
          </main>
        }
      >
        <Switch>
          <Match when={session.ban()}>{(receipt) => <BanReceipt receipt={receipt()} />}</Match>
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
