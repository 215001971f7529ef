/**
 * One simulated person's connection for the flow drivers: a session token for a given user id, a
 * tRPC WebSocket client and a `match.events` subscription that starts from a given event id.
 * A person who dropped reconnects with the same user id and the last id they saw, and gets the
 * backlog with no gap and no duplicate, as the browser's wsLink does after a drop.
 *
 * bench/match/client.ts (the churn's) mints a new user per connection and hides the event ids;
 * this one keeps both, and counts the raw WebSocket frames each way (tRPC's client sends the
 * messages of one event-loop turn as one frame, so frames and messages differ).
 */
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import type { MatchEvent } from '../../server/events/types';
import { issueToken } from '../../server/session/token';
import type { AppRouter } from '../../server/trpc/router';
import { ADULT_CONSENT } from '../../server/safety/age';

export type FlowApi = ReturnType<typeof createTRPCClient<AppRouter>>;

/** Raw WebSocket frames (text messages) the generator sent and received. */
export interface FrameCounter {
  sent: number;
  received: number;
}

export interface FlowConnection {
  api: FlowApi;
  /** Closes the socket at once and for good (no automatic reconnect): to the server, the person is gone. */
  close(): void;
}

export interface ConnectOptions {
  url: string;
  secret: string;
  userId: string;
  /** The subscription's starting point: FROM_START for a new user, else the last id received. */
  lastEventId: string;
  onEvent(id: string, e: MatchEvent): void;
  /** The subscription failed after it had started (the socket's own errors included). */
  onError(e: unknown): void;
  frames: FrameCounter;
  /** The socket is open (before it is authenticated or subscribed): from here the server may see the person. */
  onOpen?(): void;
  timeoutMs?: number;
}

/** Subscribing from the start of a new user's history: see tests/match/support.ts FROM_START. */
export const FROM_START = 'global|0-0';

export class SubscribeTimeoutError extends Error {
  readonly code = 'SUBSCRIBE_TIMEOUT';
}

/** The ws class tRPC's client gets: counts frames, and hands each socket it opens to `opened`. */
function counting(frames: FrameCounter, opened: (ws: WebSocket) => void) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      opened(this);
      this.on('message', () => frames.received++);
      // tRPC's client only ever calls send(text).
      const send = this.send.bind(this) as (data: string) => void;
      this.send = ((data: string) => {
        frames.sent++;
        send(data);
      }) as WebSocket['send'];
    }
  };
}

/** Opens the socket and resolves once `match.events` has started. */
export async function openConnection(o: ConnectOptions): Promise<FlowConnection> {
  let socket: WebSocket | null = null;
  const token = issueToken({ sub: o.userId, name: `f${o.userId.slice(0, 6)}`, exp: Date.now() + 6 * 3600_000, ...ADULT_CONSENT }, o.secret);
  const ws = createWSClient({
    url: o.url.replace('http', 'ws') + '/trpc',
    WebSocket: counting(o.frames, (s) => {
      socket = s;
      s.once('open', () => o.onOpen?.());
    }) as unknown as typeof globalThis.WebSocket,
    connectionParams: () => ({ token }),
    retryDelayMs: () => 500,
  });
  const api = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
  // tRPC's close() waits for the calls in flight to be answered before it closes the socket; a
  // person who leaves does not wait, so the socket is closed at once too (a close frame, as a
  // closing tab sends). tRPC's close() first, so its client does not reconnect.
  const close = () => {
    void ws.close();
    socket?.close();
  };
  const timeoutMs = o.timeoutMs ?? 30_000;
  await new Promise<void>((resolve, reject) => {
    let started = false;
    const timer = setTimeout(() => {
      close();
      reject(new SubscribeTimeoutError(`match.events did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    api.match.events.subscribe(
      { lastEventId: o.lastEventId },
      {
        onStarted: () => {
          started = true;
          clearTimeout(timer);
          resolve();
        },
        onData: (d) => o.onEvent(d.id, d.data),
        onError: (e) => {
          clearTimeout(timer);
          if (started) return o.onError(e);
          close();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      },
    );
  });
  return { api, close };
}
