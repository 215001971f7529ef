import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KeepAlive, type KeptSocket } from '../../server/http/keepalive';
import { startTestApp } from '../support/app';
import { connectUser, httpClient } from '../support/client';

// Shrunk from the defaults: ping every 200 ms, a socket silent for 600 ms is dead.
const FAST = {
  HEARTBEAT_INTERVAL_MS: '200',
  HEARTBEAT_TIMEOUT_MS: '600',
  RECONNECT_GRACE_MS: '10000',
  PRESENCE_SWEEP_INTERVAL_MS: '50',
};

/**
 * A tRPC client spoken by hand, that sends nothing unless asked to. With `answerPings: false` its
 * socket never answers WebSocket pings either: a peer gone without closing (pulled cable,
 * sleeping laptop) looks exactly like this to the server.
 */
async function rawPeer(url: string, answerPings: boolean) {
  const { token } = await httpClient(url).session.create.mutate({ displayName: 'Raw' });
  const ws = new WebSocket(`${url.replace('http', 'ws')}/trpc?connectionParams=1`, { autoPong: answerPings });
  const replies = new Map<number, (data: unknown) => void>();
  const pings: number[] = [];
  ws.on('ping', () => pings.push(Date.now()));
  ws.on('message', (raw) => {
    const m = JSON.parse((raw as Buffer).toString()) as { id?: number; result?: { type: string; data?: unknown } };
    if (typeof m.id === 'number' && m.result && m.result.type !== 'stopped') replies.get(m.id)?.(m.result.data);
  });
  const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(Date.now())));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let id = 0;
  const call = (method: 'mutation' | 'subscription', path: string, input: unknown) =>
    new Promise((resolve) => {
      replies.set(++id, resolve);
      ws.send(JSON.stringify({ id, method, params: { path, input } }));
    });
  ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  await call('subscription', 'match.events', {});
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  return { ws, call, closed, pings, isClosed: () => isClosed };
}

describe('presence: keep-alive', () => {
  it('a socket that stops answering pings is closed after HEARTBEAT_TIMEOUT_MS and its partner hears partner_reconnecting', async () => {
    await using app = await startTestApp(FAST);
    await using b = await connectUser(app.url, { displayName: 'Bob' });
    const a = await rawPeer(app.url, false);
    await a.call('mutation', 'match.enqueue', {});
    await b.api.match.enqueue.mutate({});
    const m = await b.next('matched');
    const t0 = Date.now();
    const closedAt = await a.closed;
    // Pinged before being given up on, and not kept much longer than the timeout (+ one sweep).
    expect(a.pings.length).toBeGreaterThanOrEqual(2);
    expect(closedAt - t0).toBeLessThan(3000);
    await b.next('partner_reconnecting', (e) => e.matchId === m.matchId, 5000);
  });

  it('a socket that answers pings stays open however long it is quiet', async () => {
    await using app = await startTestApp(FAST);
    await using b = await connectUser(app.url, { displayName: 'Bob' });
    const a = await rawPeer(app.url, true);
    await new Promise((r) => setTimeout(r, 1500)); // 2.5 timeouts without a message from us
    expect(a.isClosed()).toBe(false);
    expect(a.pings.length).toBeGreaterThanOrEqual(3);
    expect((await b.api.session.me.query()).state).toBe('IDLE');
    a.ws.close();
  });
});

/** A socket as KeepAlive sees it, counting what it is sent; `answer()` is its peer's pong. */
function fakeSocket() {
  const s = {
    readyState: 1,
    pings: 0,
    terminated: false,
    pong: null as null | (() => void),
    ping() {
      s.pings++;
    },
    terminate() {
      s.terminated = true;
      s.readyState = 3;
    },
    on(_event: string, fn: () => void) {
      s.pong = fn;
      return s;
    },
    answer() {
      s.pong!.call(s);
    },
  };
  return s;
}

describe('presence: keep-alive spreads its pings over the interval', () => {
  const pass = (k: KeepAlive) => {
    for (let i = 0; i < k.slices; i++) k.tick();
  };
  const watched = (sockets: Array<ReturnType<typeof fakeSocket>>, pingMs: number, timeoutMs: number) => {
    const k = new KeepAlive(new Set(sockets) as unknown as Set<KeptSocket>, { pingMs, timeoutMs });
    for (const s of sockets) k.watch(s as unknown as KeptSocket);
    k.stop(); // ticked by hand below
    return k;
  };

  it('no tick pings more than its share of the sockets, and a pass pings each quiet socket once', () => {
    const sockets = Array.from({ length: 1000 }, fakeSocket);
    const k = watched(sockets, 3000, 9000);
    const pinged = () => sockets.reduce((n, s) => n + s.pings, 0);
    expect(k.slices).toBe(120);
    for (let i = 0; i < k.slices; i++) {
      const before = pinged();
      k.tick();
      expect(pinged() - before).toBeLessThanOrEqual(Math.ceil(1000 / k.slices));
    }
    expect(sockets.every((s) => s.pings === 1)).toBe(true);
  });

  it('a pass takes `slices` ticks however few the sockets are', () => {
    const [s] = [fakeSocket()];
    const k = watched([s], 1000, 3000);
    pass(k);
    pass(k);
    expect(s.pings).toBe(2);
  });

  it('a socket that answers stays; one silent for timeoutMs is terminated after two pings', () => {
    const talker = fakeSocket();
    const silent = fakeSocket();
    const k = watched([talker, silent], 1000, 3000);
    for (let p = 0; p < 5; p++) {
      pass(k);
      talker.answer();
    }
    expect(silent.terminated).toBe(true);
    expect(silent.pings).toBe(2);
    expect(talker.terminated).toBe(false);
    expect(talker.pings).toBe(5);
  });
});
