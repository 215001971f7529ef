/**
 * A benchmark client: one session, one WebSocket, one `match.events` subscription, exactly what
 * the browser client opens. Lighter than tests/support/client.ts: events go to a callback and are
 * not kept. Tokens are minted with the servers' secret, as session.create would issue them.
 */
import { randomUUID } from 'node:crypto';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import type { MatchEvent } from '../../server/events/types';
import { issueToken } from '../../server/session/token';
import type { AppRouter } from '../../server/trpc/router';
import { ADULT_CONSENT } from '../../server/safety/age';

export type BenchApi = ReturnType<typeof createTRPCClient<AppRouter>>;

export interface BenchClient {
  userId: string;
  api: BenchApi;
  close(): Promise<void>;
}

/** Subscribing from the start of the (new) user's history: see tests/match/support.ts FROM_START. */
const FROM_START = 'global|0-0';

export async function connectClient(
  url: string,
  secret: string,
  onEvent: (userId: string, e: MatchEvent) => void,
  onError: (e: unknown) => void,
  subscribe = true,
  localAddress?: string,
): Promise<BenchClient> {
  const userId = randomUUID();
  const token = issueToken({ sub: userId, name: `b${userId.slice(0, 6)}`, exp: Date.now() + 6 * 3600_000, ...ADULT_CONSENT }, secret);
  const ws = createWSClient({
    url: url.replace('http', 'ws') + '/trpc',
    WebSocket: (localAddress ? boundTo(localAddress) : WebSocket) as unknown as typeof globalThis.WebSocket,
    connectionParams: () => ({ token }),
    retryDelayMs: () => 500,
  });
  const api = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
  if (!subscribe) {
    // Connected and authenticated, nothing subscribed (the memory breakdown's baseline).
    await api.session.me.query();
    return { userId, api, close: () => ws.close() };
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('subscription did not start within 30 s')), 30_000);
    api.match.events.subscribe(
      { lastEventId: FROM_START },
      {
        onStarted: () => {
          clearTimeout(timer);
          resolve();
        },
        onData: (d) => onEvent(userId, d.data),
        onError: (e) => {
          clearTimeout(timer);
          onError(e);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      },
    );
  });
  return { userId, api, close: () => ws.close() };
}

/**
 * A WebSocket whose connection leaves from `localAddress` (a loopback address such as 127.1.0.7:
 * all of 127/8 is local). The server bounds sockets per client address (WS_MAX_PER_IP), so
 * clients that stand for different people must not all come from 127.0.0.1.
 */
function boundTo(localAddress: string) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { localAddress });
    }
  };
}

/**
 * Connect `n` clients to `urls` round robin, `concurrency` at a time, client i from
 * `addresses[i % addresses.length]` when given. Failures are counted, not thrown.
 */
export async function connectMany(
  n: number,
  urls: string[],
  secret: string,
  onEvent: (userId: string, e: MatchEvent) => void,
  onError: (e: unknown) => void,
  concurrency = 250,
  subscribe = true,
  addresses: string[] = [],
): Promise<{ clients: BenchClient[]; failed: number }> {
  const clients: BenchClient[] = [];
  let failed = 0;
  for (let i = 0; i < n; i += concurrency) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(concurrency, n - i) }, (_, j) => {
        const from = addresses.length ? addresses[(i + j) % addresses.length] : undefined;
        return connectClient(urls[(i + j) % urls.length]!, secret, onEvent, onError, subscribe, from);
      }),
    );
    for (const r of batch) {
      if (r.status === 'fulfilled') clients.push(r.value);
      else failed++;
    }
  }
  return { clients, failed };
}
