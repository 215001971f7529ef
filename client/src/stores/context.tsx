/**
 * All stores are created once, here, and handed down through one context: components ask for
 * what they need with `useStores()` and never build their own connections.
 */
import { createContext, useContext, type JSX } from 'solid-js';
import { createApi } from '../api/client';
import { createCallStore } from './call';
import { createMatchStore } from './match';
import { createMatchActions } from './match-actions';
import { createMediaStore } from './media';
import { createNoticeStore } from './notice';
import { pending } from './pending';
import { createPrefsStore } from './prefs';
import { createSessionStore } from './session';
import { createStatsStore } from './stats';

export function createStores() {
  const api = createApi();
  const notices = createNoticeStore();
  const media = createMediaStore(notices);
  const prefs = createPrefsStore();
  const stats = createStatsStore(() => pending.onlineStats(api));
  const session = createSessionStore(api);
  // After the merge: createCallStore(api, media) (the call sends the media store's stream).
  const call = createCallStore(api, pending.callMedia(media));
  const match = createMatchStore(api, notices, call);
  const actions = createMatchActions(api, match, notices, call);
  return { session, notices, media, prefs, stats, call, match, actions };
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
