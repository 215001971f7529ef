/**
 * All stores are created once, here, and handed down through one context: components ask for
 * what they need with `useStores()` and never build their own connections.
 */
import { createContext, useContext, type JSX } from 'solid-js';
import { createApi } from '../api/client';
import { lazyClassifier } from '../shield/classifier';
import { createCallStore } from './call';
import { createMatchStore } from './match';
import { createMatchActions } from './match-actions';
import { createMediaStore } from './media';
import { createNoticeStore } from './notice';
import { createPrefsStore } from './prefs';
import { createSessionStore } from './session';
import { createStatsStore } from './stats';

export function createStores() {
  const api = createApi();
  const notices = createNoticeStore();
  const media = createMediaStore(notices);
  const prefs = createPrefsStore();
  const stats = createStatsStore(() => api.call(() => api.trpc.stats.online.query()));
  const session = createSessionStore(api);
  const call = createCallStore(api, media, prefs.privacy);
  const match = createMatchStore(api, notices, call);
  const actions = createMatchActions(api, match, notices, call, media);
  // The nudity shield's classifier: its worker and model start with the first call that samples.
  const shieldClassifier = lazyClassifier();
  return { session, notices, media, prefs, stats, call, match, actions, shieldClassifier };
}

export type Stores = ReturnType<typeof createStores>;

const StoreContext = createContext<Stores>();

export function StoreProvider(props: { stores: Stores; children: JSX.Element }) {
  return <StoreContext.Provider value={props.stores}>{props.children}</StoreContext.Provider>;
}

export function useStores(): Stores {
  const stores = useContext(StoreContext);
  if (!stores) throw new Error('useStores() must be used inside <StoreProvider>');
  return stores;
}
