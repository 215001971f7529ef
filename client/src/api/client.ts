/**
 * The one module that talks to the server.
 *
 * - `session.create` goes over HTTP (it is how a token is obtained, so it cannot need one);
 *   everything else goes over one WebSocket that authenticates with `connectionParams`.
 * - The token lives in sessionStorage (see session-token.ts) and is reused until it expires.
 * - `match.events` is resumable: the wsLink remembers the id of the last tracked event and,
 *   when it re-sends the subscription after a reconnect, puts it in the message as
 *   `params.lastEventId`; the server adapter merges that into the input object (which is why
 *   the input is `{}` rather than undefined). If the subscription itself has to be restarted
 *   (an error, not a reconnect) we pass the last id we saw ourselves.
 * - A proof-of-work challenge (CHALLENGE_REQUIRED) is solved off the main thread and the call
 *   repeated once; a ban (BANNED) is kept as a receipt for the app to show, and no session asked for again.
 * - A refused token (UNAUTHORIZED) is dropped: a new session is created and the socket
 *   reconnected with it; listeners are told so the UI can start over cleanly.
 * - A reload resumes: the last event id is kept for the tab (tab-memory.ts), so the new page's
 *   subscription starts right after the last event the old page applied.
 * - Leaving the page (`pagehide`) sends a beacon (`session.leave`): the server then tells a
 *   partner at once (LEAVE_GRACE_MS) unless this session comes back first, as a reload does.
 * - Every call settles within CALL_TIMEOUT_MS: an answer, or a failure the person is told about.
 */
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { createSignal } from 'solid-js';
import type { AppRouter } from '../../../server/trpc/router';
import type { MatchEvent } from '../../../server/events/types';
import { solveAltcha } from './challenge';
import { banOf, challengeOf, isTransportError, isUnauthorized, type BanReceipt } from './errors';
import { clearSession, deviceId, isUsable, loadAgeBracket, loadSession, saveSession, type StoredSession } from './session-token';
import { createTabMemory } from './tab-memory';
import { USER_MESSAGES } from '../../../server/resilience/messages';

export type { MatchEvent };
export type ConnectionState = 'connecting' | 'open' | 'reconnecting';
export type SessionChange = 'rename' | 'consent' | 'unauthorized';

export interface EventHandlers {
  /** The subscription is live (first time, after a restart, or re-sent after a reconnect). */
  onStarted(): void;
  onEvent(id: string, event: MatchEvent): void;
}

const RETRY_ATTEMPTS = 3;
const RESUBSCRIBE_DELAY_MS = 1000;
/** The longest any one call may go unanswered before the person is told it failed. */
export const CALL_TIMEOUT_MS = 10_000;

/** Reconnect quickly at first, then back off, never waiting more than ~3 s. */
const retryDelayMs = (attempt: number) => Math.min(200 * 2 ** attempt, 3000);

export function createApi() {
  const [connection, setConnection] = createSignal<ConnectionState>('connecting');
  const [session, setSession] = createSignal<StoredSession | null>(loadSession());
  // A ban receipt once session.create is refused with BANNED: the app shows it instead of any screen.
  const [ban, setBan] = createSignal<BanReceipt | null>(null);
  // True while a proof-of-work challenge is being solved ("Checking your browser...").
  const [checking, setChecking] = createSignal(false);
  const replacedListeners = new Set<(why: SessionChange) => void>();
  let creating: Promise<StoredSession> | null = null;
  let replacing: Promise<StoredSession> | null = null;
  let everOpened = false;
  const memory = createTabMemory(() => session()?.userId ?? null);
  let socket: WebSocket | null = null;

  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/trpc`;
  const ws = createWSClient({
    url: wsUrl,
    // Called for every new socket, so a reconnect always carries the current token.
    connectionParams: async () => ({ token: (await ensureSession()).token }),
    // A socket that went quiet (Wi-Fi gone without a close) is found within about 5 s, inside the reconnect grace.
    keepAlive: { enabled: true, intervalMs: 3000, pongTimeoutMs: 2000 },
    retryDelayMs,
    WebSocket: watchedWebSocket(
      () => void onTokenRefused(session()?.token),
      (s) => (socket = s),
    ),
    onOpen: () => {
      everOpened = true;
      setConnection('open');
    },
    onClose: () => {
      // A reconnect may have swapped in a socket that is still open; only then are we fine.
      if (ws.connection?.state === 'open') return setConnection('open');
      setConnection(everOpened && !replacing ? 'reconnecting' : 'connecting');
    },
  });

  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        // A banned person has no session, so no socket: their appeal goes over HTTP too.
        condition: (op) => op.path === 'session.create' || op.path === 'safety.appeal',
        true: httpBatchLink({ url: '/trpc' }),
        false: wsLink<AppRouter>({ client: ws }),
      }),
    ],
  });

  async function createSession(chosenName: string): Promise<StoredSession> {
    // The age answer the person gave on this device goes with every new session (asked once).
    const ageBracket = loadAgeBracket() ?? undefined;
    const consent = ageBracket ? { ageBracket, acceptRules: true as const } : undefined;
    const input = { ...(chosenName ? { displayName: chosenName } : {}), ...(consent ? { consent } : {}), deviceId: deviceId() };
    const r = await trpc.session.create.mutate(input).catch(async (e: unknown) => {
      // Asked for a proof of work: solve it and ask once more with the solution (never a loop).
      const challenge = challengeOf(e);
      if (!challenge) throw noteBan(e);
      const altcha = await solving(solveAltcha(challenge));
      return trpc.session.create.mutate({ ...input, altcha }).catch((again: unknown) => {
        throw noteBan(again);
      });
    });
    const s: StoredSession = { token: r.token, userId: r.userId, displayName: r.displayName, chosenName, expiresAt: r.expiresAt, ageBracket, relay: r.relay };
    saveSession(s);
    setSession(s);
    return s;
  }

  function noteBan(e: unknown): unknown {
    const receipt = banOf(e);
    if (receipt) setBan(receipt);
    return e;
  }

  async function solving<T>(work: Promise<T>): Promise<T> {
    setChecking(true);
    try {
      return await work;
    } finally {
      setChecking(false);
    }
  }

  /** The current session, or a new one when there is none or it is about to expire. */
  function ensureSession(): Promise<StoredSession> {
    // Banned: asking again would only be refused again (the socket keeps retrying through here).
    const receipt = ban();
    if (receipt) return Promise.reject(new Error(`Banned (receipt ${receipt.receiptId}).`));
    const s = session();
    if (s && isUsable(s)) return Promise.resolve(s);
    return (creating ??= createSession(s?.chosenName ?? '').finally(() => (creating = null)));
  }

  /**
   * Start over as a new user: close the socket (this also ends the events subscription),
   * create a session, then subscribe again from scratch. Used for a new display name and
   * for a refused token. Concurrent callers share one replacement.
   */
  function replaceSession(chosenName: string, why: SessionChange): Promise<StoredSession> {
    return (replacing ??= (async () => {
      stopEvents();
      await ws.close();
      clearSession();
      setSession(null);
      // Told before the new session exists, so the UI forgets the old user even if creating fails.
      for (const fn of replacedListeners) fn(why);
      try {
        return await ensureFresh(chosenName);
      } finally {
        // Even after a failure: the socket's connectionParams keep trying to get a session.
        startEvents(null);
      }
    })().finally(() => (replacing = null)));
  }

  async function ensureFresh(chosenName: string): Promise<StoredSession> {
    await creating?.catch(() => null);
    return createSession(chosenName);
  }

  /**
   * Replace a refused session. Nobody waits on this: a ban is kept as a receipt (noteBan) and any
   * other failure is met again by the socket, which keeps asking for a session.
   */
  function onTokenRefused(token: string | undefined): Promise<void> {
    if (!replacing && (!token || token !== session()?.token)) return Promise.resolve(); // already replaced
    return (replacing ?? replaceSession(session()?.chosenName ?? '', 'unauthorized')).then(
      () => undefined,
      () => undefined,
    );
  }

  // ---- match.events: one live subscription, restarted when needed ----
  let handlers: EventHandlers | null = null;
  // Bumped whenever a subscription is replaced, so late callbacks of an old one are ignored.
  let generation = 0;
  let stop: (() => void) | null = null;
  let lastEventId: string | null = null;
  let ready = deferred();

  function startEvents(resumeFrom: string | null): void {
    stopEvents();
    lastEventId = resumeFrom;
    const gen = generation;
    const restart = () => {
      if (gen !== generation) return;
      stopEvents();
      const next = generation;
      setTimeout(() => next === generation && startEvents(lastEventId), RESUBSCRIBE_DELAY_MS);
    };
    const sub = trpc.match.events.subscribe(resumeFrom ? { lastEventId: resumeFrom } : {}, {
      onStarted: () => {
        if (gen !== generation) return;
        ready.resolve();
        handlers?.onStarted();
      },
      onData: (tracked) => {
        if (gen !== generation) return;
        lastEventId = tracked.id;
        handlers?.onEvent(tracked.id, tracked.data);
        memory.setLastEventId(tracked.id);
      },
      onError: (err) => {
        if (gen !== generation) return;
        if (isUnauthorized(err)) return void onTokenRefused(session()?.token);
        restart();
      },
      // The server never ends this stream by itself; if it does, pick up where we were.
      onComplete: restart,
    });
    stop = () => sub.unsubscribe();
  }

  function stopEvents(): void {
    generation++;
    stop?.();
    stop = null;
    // Whoever is waiting for "ready" keeps waiting for the next subscription rather than hanging.
    if (ready.done) ready = deferred();
  }

  /**
   * Run a server call. A refused token starts a new session (the caller learns so in plain
   * words); with `retry`, a call that got no answer (socket dropped) is sent again once the
   * socket is back, which is safe because such calls carry an idempotency key.
   */
  async function call<T>(fn: () => Promise<T>, opts: { retry?: boolean } = {}): Promise<T> {
    let solved = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await withTimeout(fn(), CALL_TIMEOUT_MS);
      } catch (e) {
        // Asked for a proof of work (Start, Skip): solve it once, hand it in, and repeat the call once.
        const challenge = solved ? null : challengeOf(e);
        if (challenge) {
          solved = true;
          const altcha = await solving(solveAltcha(challenge));
          await trpc.safety.solveChallenge.mutate({ altcha });
          continue;
        }
        if (isUnauthorized(e)) {
          const token = session()?.token;
          void onTokenRefused(token);
          throw new Error('Your session expired, so we started a new one. Please try again.');
        }
        if (!opts.retry || !isTransportError(e) || attempt >= RETRY_ATTEMPTS) throw e;
        await sleep(retryDelayMs(attempt));
      }
    }
  }

  // A reload picks up right after the last event this tab applied (nothing when there is no session yet).
  startEvents(memory.lastEventId());
  addEventListener('pagehide', () => sendLeaveBeacon(session()?.token));
  // The browser knows at once when the network is gone: say so and drop the socket, so the client
  // reconnects as soon as it is back rather than after the keep-alive gives up on a silent socket.
  addEventListener('offline', () => {
    setConnection('reconnecting');
    socket?.close();
  });

  return {
    trpc,
    call,
    memory,
    connection,
    session,
    ban,
    checking,
    ensureSession,
    replaceSession,
    /** Resolves once the events subscription is live, so no event of a following call is missed. */
    eventsReady: () => ready.promise,
    setEventHandlers(h: EventHandlers | null) {
      handlers = h;
    },
    onSessionReplaced(fn: (why: SessionChange) => void): () => void {
      replacedListeners.add(fn);
      return () => replacedListeners.delete(fn);
    },
  };
}

export type Api = ReturnType<typeof createApi>;

/**
 * A socket whose context the server refuses (bad token) gets one `{ id: null, error }` message
 * and is closed; the wsLink would just keep reconnecting with the same token. Watching for that
 * message lets us replace the session instead.
 */
function watchedWebSocket(onRefused: () => void, onCreated: (s: WebSocket) => void): typeof WebSocket {
  return class WatchedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      onCreated(this);
      this.addEventListener('message', (e: MessageEvent) => {
        if (typeof e.data === 'string' && e.data.startsWith('{"id":null') && isRefusal(e.data)) onRefused();
      });
    }
  };
}

function isRefusal(raw: string): boolean {
  try {
    const msg = JSON.parse(raw) as { error?: { data?: { code?: string } } };
    return msg.error?.data?.code === 'UNAUTHORIZED';
  } catch {
    return false;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void; done: boolean } {
  let settle!: () => void;
  const promise = new Promise<void>((r) => (settle = r));
  const d = {
    promise,
    done: false,
    resolve: () => {
      d.done = true;
      settle();
    },
  };
  return d;
}

/** Tell the server this page is going away (closed, navigated or reloaded): see session.leave. */
function sendLeaveBeacon(token: string | undefined): void {
  if (!token || typeof navigator.sendBeacon !== 'function') return;
  navigator.sendBeacon('/trpc/session.leave', new Blob([JSON.stringify({ token })], { type: 'application/json' }));
}

/** The call's own result, or a plain-words failure once `ms` have passed without one. */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(USER_MESSAGES.UNREACHABLE)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
