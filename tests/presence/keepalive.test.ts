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

/**
 * A socket as KeepAlive sees it, counting what it is sent. A live one answers each ping
 * `rttTicks` ticks later (its peer's pong), as long as it is open.
 */
function fakeSocket(rttTicks: number | null = null) {
  const s = {
    readyState: 1,
    pings: 0,
    terminated: false,
    pong: null as null | (() => void),
    dueAnswers: [] as number[],
    ping() {
      s.pings++;
      if (rttTicks !== null) s.dueAnswers.push(rttTicks);
    },
    terminate() {
      s.terminated = true;
      s.readyState = 3;
    },
    on(_event: string, fn: () => void) {
      s.pong = fn;
      return s;
    },
    /** One tick of the peer: answers whose time has come. */
    step() {
      s.dueAnswers = s.dueAnswers.map((t) => t - 1);
      while (s.dueAnswers[0] !== undefined && s.dueAnswers[0] <= 0) {
        s.dueAnswers.shift();
        if (!s.terminated) s.pong!.call(s);
      }
    },
  };
  return s;
}
type Fake = ReturnType<typeof fakeSocket>;

describe('presence: keep-alive spreads its pings over the interval', () => {
  // Ticks of 25 ms: a 3 s interval is a pass of 120 ticks, a 9 s timeout 360 ticks.
  const watched = (sockets: Fake[], pingMs: number, timeoutMs: number) => {
    const set = new Set<Fake>();
    const k = new KeepAlive(set as unknown as Set<KeptSocket>, { pingMs, timeoutMs });
    const add = (s: Fake) => {
      set.add(s);
      k.watch(s as unknown as KeptSocket);
    };
    sockets.forEach(add);
    k.stop(); // ticked by hand below
    const run = (ticks: number, each?: (t: number) => void) => {
      for (let t = 0; t < ticks; t++) {
        k.tick();
        for (const s of set) s.step();
        each?.(t);
      }
    };
    return { k, set, add, run };
  };

  it('no tick pings more than its share of the sockets, and a pass pings each quiet socket once', () => {
    const sockets = Array.from({ length: 1000 }, () => fakeSocket());
    const { k, run } = watched(sockets, 3000, 9000);
    expect(k.slices).toBe(120);
    run(k.slices); // the first pass: only those already quiet for half an interval are pinged
    for (const s of sockets) s.pings = 0;
    const pinged = () => sockets.reduce((n, s) => n + s.pings, 0);
    for (let i = 0; i < k.slices; i++) {
      const before = pinged();
      run(1);
      expect(pinged() - before).toBeLessThanOrEqual(Math.ceil(1000 / k.slices));
    }
    expect(sockets.every((s) => s.pings === 1)).toBe(true);
  });

  it('a silent socket gets its pings over the whole timeout and is terminated within one interval after it', () => {
    const s = fakeSocket();
    const { run } = watched([s], 3000, 9000);
    run(360); // 9 s: not yet
    expect(s.terminated).toBe(false);
    expect(s.pings).toBe(2); // one visit per 3 s pass (a pass per tick would have pinged 300 times)
    run(120); // within one more interval
    expect(s.terminated).toBe(true);
  });

  it('a socket that answers stays however the set around it changes, and the silent one is terminated', () => {
    const talker = fakeSocket(12); // answers 300 ms after each ping
    const silent = fakeSocket();
    const { set, add, run } = watched([fakeSocket(), talker, silent], 3000, 6000);
    // Thousands of sockets come and go mid-pass, moving the talker's place in each pass.
    run(30 * 120, (t) => {
      if (t % 37 === 0) for (let i = 0; i < 500; i++) add(fakeSocket(1));
      if (t % 53 === 0) for (const s of [...set].slice(0, 400)) if (s !== talker && s !== silent) set.delete(s);
    });
    expect(talker.terminated).toBe(false);
    expect(talker.pings).toBeGreaterThanOrEqual(25);
    expect(silent.terminated).toBe(true);
  });
});
