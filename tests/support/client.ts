/**
 * A real tRPC client over a real WebSocket, as an outside TypeScript app would use it, plus an
 * event collector for `match.events` with `waitFor` helpers.
 */
import { TRPCClientError, createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import type { AppRouter } from '../../server/trpc/router';
import type { MatchEvent } from '../../server/events/types';

/** An adult who accepts the rules: what every test person answers unless a test is about the age policy. */
export const ADULT = { ageBracket: '18+', acceptRules: true } as const;

export type Api = ReturnType<typeof createTRPCClient<AppRouter>>;

export function httpClient(url: string, token?: string): Api {
  return createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${url}/trpc`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) })],
  });
}

export interface TestUser extends AsyncDisposable {
  userId: string;
  token: string;
  api: Api;
  ws: ReturnType<typeof createWSClient>;
  events: Array<{ id: string; event: MatchEvent }>;
  /** Resolves with the first collected event matching `pred` (already received or future). */
  next<T extends MatchEvent['type']>(
    type: T,
    pred?: (e: Extract<MatchEvent, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<MatchEvent, { type: T }>>;
  close(): Promise<void>;
}

export async function connectUser(url: string, opts: { displayName?: string; token?: string; userId?: string; lastEventId?: string } = {}): Promise<TestUser> {
  let token = opts.token;
  let userId = opts.userId;
  if (!token) {
    const s = await httpClient(url).session.create.mutate({ displayName: opts.displayName, consent: ADULT });
    token = s.token;
    userId = s.userId;
  }
  const ws = createWSClient({
    url: url.replace('http', 'ws') + '/trpc',
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => ({ token: token }),
    retryDelayMs: () => 50,
  });
  const api = createTRPCClient<AppRouter>({
    links: [splitLink({ condition: () => true, true: wsLink({ client: ws }), false: httpBatchLink({ url: `${url}/trpc` }) })],
  });
  const events: Array<{ id: string; event: MatchEvent }> = [];
  const waiters = new Set<() => void>();
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  const sub = api.match.events.subscribe(opts.lastEventId ? { lastEventId: opts.lastEventId } : {}, {
    onStarted: () => ready(),
    onData: (d) => {
      events.push({ id: d.id, event: d.data });
      for (const w of waiters) w();
    },
  });
  await started;
  const next: TestUser['next'] = (type, pred, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const hit = events.find((e) => e.event.type === type && (!pred || pred(e.event as never)));
        if (hit) {
          waiters.delete(check);
          clearTimeout(t);
          resolve(hit.event as never);
        }
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${type} event within ${timeoutMs} ms; got ${events.map((e) => e.event.type).join(',')}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const close = async () => {
    sub.unsubscribe();
    await ws.close();
  };
  return { userId: userId!, token, api, ws, events, next, close, [Symbol.asyncDispose]: close };
}

/**
 * How a call that must fail was refused: its sentence, and its data (`appCode`, `details`; `D`
 * names what a test reads of them). Throws when the call succeeded or failed some other way.
 */
export async function refusal<D = { appCode?: string; details?: Record<string, unknown> }>(call: Promise<unknown>): Promise<{ message: string; data: D }> {
  const e = await call.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCClientError)) throw new Error(`expected a refused call, got ${e instanceof Error ? e.message : 'a success'}`);
  return { message: e.message, data: e.data as D };
}

/** Ann and Bob matched with each other (CONNECTING), or in a call (IN_CALL) with `joined`. The caller disposes of both. */
export async function matchedPair(url: string, opts: { joined?: boolean } = {}): Promise<{ a: TestUser; b: TestUser; matchId: string }> {
  const a = await connectUser(url, { displayName: 'Ann' });
  const b = await connectUser(url, { displayName: 'Bob' });
  await a.api.match.enqueue.mutate({});
  await b.api.match.enqueue.mutate({});
  const { matchId } = await a.next('matched');
  await b.next('matched');
  if (opts.joined) {
    await a.api.match.joined.mutate({ matchId });
    await b.api.match.joined.mutate({ matchId });
  }
  return { a, b, matchId };
}
