import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KeepAlive, type KeptSocket } from '../../server/http/keepalive';
import { startTestApp } from '../support/app';
import { connectUser, httpClient, ADULT } from '../support/client';

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
  const { token } = await httpClient(url).session.create.mutate({ displayName: 'Raw', consent: ADULT });
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
  const openedAt = Date.now();
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
  return { ws, call, closed, pings, openedAt, isClosed: () => isClosed };
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
    // ...and not before: silent for HEARTBEAT_TIMEOUT_MS (600 ms, less at most one 25 ms tick).
    expect(closedAt - a.openedAt).toBeGreaterThanOrEqual(550);
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

/** A socket as KeepAlive sees it, with what it was sent and the peer's pong listener. */
interface Fake {
  readyState: number;
  pings: number;
  terminated: boolean;
  terminatedAt: number;
  pong: null | (() => void);
  ping(): void;
  terminate(): void;
  on(event: string, fn: () => void): Fake;
}

/** The peers' side: pongs due at a tick (a live peer answers each ping `rttTicks` later). */
class Peers {
  private due = new Map<number, Fake[]>();
  tick = 0;
  socket(rttTicks: number | null = null): Fake {
    const s: Fake = {
      readyState: 1,
      pings: 0,
      terminated: false,
      terminatedAt: -1,
      pong: null,
      ping: () => {
        s.pings++;
        if (rttTicks === null) return;
        const at = this.tick + rttTicks;
        this.due.set(at, [...(this.due.get(at) ?? []), s]);
      },
      terminate: () => {
        s.terminated = true;
        s.terminatedAt = this.tick;
        s.readyState = 3;
      },
      on(_event: string, fn: () => void) {
        s.pong = fn;
        return s;
      },
    };
    return s;
  }
  /** Deliver the pongs due now, then move on a tick. */
  step(): void {
    for (const s of this.due.get(this.tick) ?? []) if (!s.terminated) s.pong!.call(s);
    this.due.delete(this.tick);
    this.tick++;
  }
}

describe('presence: keep-alive spreads its pings over the interval', () => {
  // Ticks of 25 ms: a 3 s interval is a pass of 120 ticks, a 9 s timeout 360 ticks.
  const watched = (pingMs: number, timeoutMs: number) => {
    const peers = new Peers();
    const set = new Set<Fake>();
    const k = new KeepAlive(set as unknown as Set<KeptSocket>, { pingMs, timeoutMs });
    k.stop(); // ticked by hand below
    const add = (s: Fake) => {
      set.add(s);
      k.watch(s as unknown as KeptSocket);
      k.stop();
      return s;
    };
    const run = (ticks: number, each?: (t: number) => void) => {
      for (let t = 0; t < ticks; t++) {
        k.tick();
        peers.step();
        each?.(t);
      }
    };
    return { k, peers, set, add, run };
  };

  it('no tick pings more than its share of the sockets, and a pass pings each quiet socket once', () => {
    const { k, peers, add, run } = watched(3000, 9000);
    const sockets = Array.from({ length: 1000 }, () => add(peers.socket()));
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
    const { peers, add, run } = watched(3000, 9000);
    const s = add(peers.socket());
    run(360); // 9 s: not yet
    expect(s.terminated).toBe(false);
    expect(s.pings).toBe(2); // one visit per 3 s pass (a pass per tick would have pinged 300 times)
    run(120); // within one more interval
    expect(s.terminated).toBe(true);
  });

  it('a peer whose two visits drift nearly two intervals apart is pinged before it is given up on', () => {
    // Shortest timeout (two intervals). X sits after S - 1 others; with S * S more behind it, a
    // pass visits it in its first tick; once those are gone, in its last.
    const { k, peers, set, add, run } = watched(3000, 6000);
    const S = k.slices;
    for (let i = 0; i < S - 1; i++) add(peers.socket(1));
    const x = add(peers.socket(1));
    const extras = Array.from({ length: S * S }, () => add(peers.socket(1)));
    run(S);
    x.pong!.call(x); // heard just before the next pass visits it in its first tick
    run(S); // that pass: quiet for one tick, nothing to do
    expect(x.pings).toBe(0);
    for (const e of extras) set.delete(e);
    run(S); // the next pass reaches x only in its last tick: quiet two whole intervals, never pinged
    expect(x.terminated).toBe(false);
    expect(x.pings).toBe(1);
    run(S);
    expect(x.terminated).toBe(false);
  });

  it('where a socket falls in a pass moves as others come and go: a live peer stays, a silent one gets its full timeout', () => {
    // The shortest timeout allowed (two intervals), and a set that grows by thousands and shrinks
    // back every other pass: the two sockets under watch are visited in a pass's first tick, then
    // in the next one's last, and back.
    const { k, peers, set, add, run } = watched(3000, 6000);
    const S = k.slices;
    for (let i = 0; i < S - 3; i++) add(peers.socket(1));
    const talker = add(peers.socket(12)); // answers 300 ms after each ping
    const quick = add(peers.socket(1)); // answers at once
    const silent = add(peers.socket());
    const extras: Fake[] = [];
    run(20 * S, (t) => {
      if ((t + 1) % S !== 0) return;
      if (extras.length) {
        for (const e of extras.splice(0)) set.delete(e);
      } else {
        for (let i = 0; i < S * S; i++) extras.push(add(peers.socket(1)));
      }
    });
    expect(talker.terminated).toBe(false);
    expect(quick.terminated).toBe(false);
    expect(talker.pings).toBeGreaterThanOrEqual(15);
    expect(silent.terminated).toBe(true);
    expect(silent.terminatedAt).toBeGreaterThanOrEqual(2 * S); // never before the timeout
  });
});
