/**
 * The match as this tab sees it, built only from what the server says: `match.events`, call
 * results that carry a version, and `session.me` snapshots. The screen is derived from the
 * server state machine (IDLE -> landing, WAITING -> waiting, CONNECTING/IN_CALL -> chat), so
 * after any failure the UI lands wherever the server says we are.
 *
 * The current match and its conversation are remembered for the tab (api/tab-memory.ts): after a
 * reload, when the server says we are still in that match, the page rejoins the call instead of
 * ending it, and the partner sees one "reconnecting... back".
 */
import { batch, createEffect, createMemo, createSignal } from 'solid-js';
import { createStore } from 'solid-js/store';
import type { State } from '../../../server/state/states';
import type { Api, MatchEvent } from '../api/client';
import type { CallStore, MatchedEvent } from './call';
import type { NoticeStore } from './notice';
import { RecentIds } from './recent-ids';
import type { RememberedMatch } from '../api/tab-memory';

export type Screen = 'landing' | 'waiting' | 'chat';

export interface ChatMessage {
  clientMessageId: string;
  from: 'me' | 'partner';
  text: string;
  status: 'sending' | 'sent' | 'failed';
  /** When it was sent, ms since epoch (the server's time for the partner's messages). */
  at: number;
}

/** Where the server says we are. `matchId` is known only from a snapshot (state events don't carry it). */
interface ServerView {
  state: State;
  version: number;
  matchId: string | null;
  /** A `session.me` snapshot has been applied since the page (or session) started. */
  synced: boolean;
}

const STATES: readonly string[] = ['IDLE', 'WAITING', 'CONNECTING', 'IN_CALL', 'DISCONNECTING'];
const inMatch = (s: State) => s === 'CONNECTING' || s === 'IN_CALL';
const TYPING_SHOWN_MS = 6000;
// After a reload we cannot rebuild a call we know nothing about; give the `matched` event this long to turn up.
const ORPHAN_GRACE_MS = 1500;

/** What the person is told when the partner leaves; all say we are looking again, so they stop being true at the next match. */
const LEFT: Record<string, string> = {
  skip: 'Your partner skipped. Finding someone new...',
  end: 'Your partner left. Finding someone new...',
  disconnect: "Your partner's connection dropped. Finding someone new...",
  timeout: "Your partner's connection dropped. Finding someone new...",
};

export function createMatchStore(api: Api, notices: NoticeStore, call: CallStore) {
  const [server, setServer] = createStore<ServerView>({ state: 'IDLE', version: -1, matchId: null, synced: false });
  const [match, setMatch] = createSignal<MatchedEvent | null>(null);
  const [messages, setMessages] = createStore<ChatMessage[]>([]);
  const [partnerTyping, setPartnerTyping] = createSignal(false);
  const [queue, setQueue] = createSignal<{ position: number | null; estimatedWaitMs: number | null }>({ position: null, estimatedWaitMs: null });
  const [partnerReconnecting, setPartnerReconnecting] = createSignal(false);
  // The match this tab was in before a reload: shown at once, rejoined once the server confirms it.
  let rejoining: RememberedMatch | null = api.memory.match();
  const seen = new RecentIds(1000);
  const joinedSent = new Set<string>();
  // The match we were last in: its `partner_left` comes right after the state events that already ended it here.
  let lastMatchId: string | null = null;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;

  const screen = createMemo<Screen>((prev) => {
    switch (server.state) {
      case 'IDLE':
        // Reloaded mid-call: stay on the call until the server says where we are.
        return !server.synced && match() ? 'chat' : 'landing';
      case 'WAITING':
        return 'waiting';
      case 'DISCONNECTING':
        return prev; // always followed at once by IDLE or WAITING
      default:
        return match() ? 'chat' : 'waiting'; // matched but the details are still on their way
    }
  }, 'landing');

  /** Apply a state with its version; anything not newer than what we have is stale. */
  function applyState(s: { state: string; version: number; matchId?: string | null }, snapshot = false): void {
    if (!STATES.includes(s.state)) return;
    const newer = s.version > server.version || (snapshot && s.version === server.version);
    if (!newer) return;
    const state = s.state as State;
    batch(() => {
      setServer({ state, version: s.version, matchId: s.matchId ?? null, synced: server.synced || snapshot });
      if (state === 'IDLE' || state === 'WAITING') endLocalMatch();
      if (state !== 'WAITING') setQueue({ position: null, estimatedWaitMs: null });
    });
  }

  function endLocalMatch(): void {
    call.stop();
    clearTimeout(typingTimer);
    batch(() => {
      setMatch(null);
      setPartnerTyping(false);
      setPartnerReconnecting(false);
    });
    notices.clearIf('partner-connection');
  }

  function isCurrent(matchId: string): boolean {
    return match()?.matchId === matchId;
  }

  function onMatched(ev: MatchedEvent): void {
    if (isCurrent(ev.matchId)) return;
    // A stale `matched` (a later snapshot already moved us on) must not start a call.
    if (!inMatch(server.state) || (server.matchId && server.matchId !== ev.matchId)) return;
    endLocalMatch();
    lastMatchId = ev.matchId;
    batch(() => {
      setMatch(ev);
      setMessages([]);
      setQueue({ position: null, estimatedWaitMs: null });
    });
    notices.clearIf('looking'); // "finding someone new" is over
    void call.start(ev, () => reportJoined(ev.matchId));
  }

  /** Show the match we were in before a reload (the same partner, the conversation so far) until the server says. */
  function showRemembered(r: RememberedMatch): void {
    lastMatchId = r.event.matchId;
    batch(() => {
      setMatch(r.event);
      setMessages(r.messages);
    });
  }

  /** Tell the server our side is ready, once per match. */
  function reportJoined(matchId: string): void {
    if (joinedSent.has(matchId)) return;
    joinedSent.add(matchId);
    api
      .call(() => api.trpc.match.joined.mutate({ matchId }), { retry: true })
      .catch((e: unknown) => {
        if (!isCurrent(matchId)) return; // the match ended meanwhile: nothing left to report
        notices.failed(e);
        void resync();
      });
  }

  function onChat(ev: Extract<MatchEvent, { type: 'chat' }>): void {
    if (!isCurrent(ev.matchId)) return;
    const i = messages.findIndex((m) => m.clientMessageId === ev.clientMessageId);
    // Our own message comes back as an echo: mark it sent instead of showing it twice.
    if (i >= 0) setMessages(i, 'status', 'sent');
    else setMessages(messages.length, { clientMessageId: ev.clientMessageId, from: ev.from, text: ev.text, status: 'sent', at: ev.at });
    if (ev.from === 'partner') setPartnerTyping(false);
  }

  function onTyping(matchId: string, typing: boolean): void {
    if (!isCurrent(matchId)) return;
    clearTimeout(typingTimer);
    setPartnerTyping(typing);
    // A lost "stopped typing" must not leave the indicator on forever.
    if (typing) typingTimer = setTimeout(() => setPartnerTyping(false), TYPING_SHOWN_MS);
  }

  function onEvent(id: string, ev: MatchEvent): void {
    if (!seen.add(id)) return; // delivered twice (resume overlap): already applied
    switch (ev.type) {
      case 'state':
        return applyState({ state: ev.to, version: ev.version });
      case 'queued':
        return void setQueue({ position: ev.position, estimatedWaitMs: ev.estimatedWaitMs });
      case 'requeued':
        return void setQueue({ position: ev.front ? 1 : null, estimatedWaitMs: null });
      case 'matched':
        return onMatched(ev);
      case 'chat':
        return onChat(ev);
      case 'typing':
        return onTyping(ev.matchId, ev.typing);
      case 'signal':
        return call.signal(ev.matchId, ev.data);
      case 'partner_left':
        if (ev.matchId !== lastMatchId && ev.matchId !== server.matchId) return;
        if (isCurrent(ev.matchId)) endLocalMatch();
        return void notices.show(LEFT[ev.reason] ?? LEFT.end!, 'info', 'looking');
      case 'partner_reconnecting':
        if (!isCurrent(ev.matchId)) return;
        setPartnerReconnecting(true);
        return void notices.show("Your partner's connection dropped. Waiting for them to come back...", 'info', 'partner-connection');
      case 'partner_back':
        if (!isCurrent(ev.matchId)) return;
        setPartnerReconnecting(false);
        notices.show('Your partner is back.', 'info', 'partner-connection');
        notices.expireSoon(3000);
        // A reloaded page knows nothing of our camera and microphone: tell it again.
        return call.announceMedia();
      case 'partner_media':
        return call.setPartnerMedia(ev.matchId, ev);
      case 'notice':
        return void notices.show(ev.message);
    }
  }

  /** Ask the server where we are and follow it. Used when (re)subscribing and after any failure. */
  async function resync(): Promise<void> {
    try {
      const me = await api.call(() => api.trpc.session.me.query(), { retry: true });
      const remembered = rejoining;
      rejoining = null;
      applyState({ state: me.state, version: me.version, matchId: me.matchId }, true);
      if (!inMatch(me.state) || !me.matchId) return;
      // Still in the match from before the reload: a new connection to the same partner.
      if (remembered && isCurrent(me.matchId))
        return void call.start(remembered.event, () => reportJoined(me.matchId!), { connectedAt: remembered.connectedAt });
      if (remembered) endLocalMatch(); // the server has moved on from it
      if (!isCurrent(me.matchId)) setTimeout(() => endOrphan(me.matchId!), ORPHAN_GRACE_MS);
    } catch {
      // Unreachable server: the connection banner says so, and the next (re)subscribe resyncs.
    }
  }

  /** A match from before a reload: we have no call to rejoin, so end it cleanly for both sides. */
  function endOrphan(matchId: string): void {
    if (isCurrent(matchId) || server.matchId !== matchId || !inMatch(server.state)) return;
    api
      .call(() => api.trpc.match.end.mutate({ matchId }), { retry: true })
      .then(() => notices.show('Your previous conversation ended when the page was reloaded.'))
      .catch(() => void resync());
  }

  if (rejoining) showRemembered(rejoining);
  // The match and its conversation, remembered for the tab on every change (a reload rejoins it).
  createEffect(() => {
    const m = match();
    const remembered = m && { event: m, connectedAt: call.connectedAt() ?? rejoining?.connectedAt ?? null, messages: messages.map((x) => ({ ...x })) };
    api.memory.setMatch(remembered);
  });

  api.setEventHandlers({ onStarted: () => void resync(), onEvent });
  api.onSessionReplaced((why) => {
    // A token refused before we ever showed anything (stale tab storage) is not worth a message.
    const wasInUse = server.synced;
    endLocalMatch();
    seen.clear();
    rejoining = null;
    setServer({ state: 'IDLE', version: -1, matchId: null, synced: false });
    if (why === 'unauthorized' && wasInUse) notices.show('Your session expired, so we started a new one.');
  });

  return {
    server,
    screen,
    match,
    messages,
    setMessages,
    partnerTyping,
    partnerReconnecting,
    queue,
    applyState,
    resync,
    isCurrent,
  };
}

export type MatchState = ReturnType<typeof createMatchStore>;
