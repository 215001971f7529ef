/**
 * The attacks by signed-in users over tRPC's own WebSocket client (bench/match/client.ts, the
 * honest generator's client): queues sprayed over ever-new pools (b), and two colluding users
 * relaying the largest signalling messages the API takes to each other (d).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MatchEvent } from '../../server/events/types';
import { connectClient, connectMany, type BenchClient } from '../match/client';
import { appCode, errorOutcome, pace, REQUEST_TIMEOUT_MS, withTimeout, type Tally } from './pace';
import type { Attack, AttackContext } from './context';

/** Sessions taking turns in the spray (each busy for an enqueue and a cancel): what one address may hold, WS_MAX_PER_IP's default. */
const SPRAY_SESSIONS = 32;
/** Colluding pairs signalling at once (16 sockets from the attacker's address, under WS_MAX_PER_IP). */
const PAIRS = 8;
/** How long two colluders may take to be paired with each other. */
const PAIR_TIMEOUT_MS = 10_000;
/** How long the spray's sessions may take to connect before the attack starts without them. */
const PREPARE_MS = 30_000;

/** `prefix` + `i` in letters: a language or region code (2-8 letters) no one else uses. */
function code(prefix: string, i: number): string {
  let s = '';
  do {
    s = String.fromCharCode(97 + (i % 26)) + s;
    i = Math.floor(i / 26);
  } while (i > 0);
  return (prefix + s).slice(0, 8);
}

/** Counts a tRPC call's outcome under `kind` (with the refusal's code, or why there was no answer). */
async function call(tally: Tally, kind: string, p: Promise<unknown>): Promise<string> {
  try {
    await withTimeout(p);
    tally.add('ok', kind);
    return 'ok';
  } catch (e) {
    const outcome = errorOutcome(e);
    const why = appCode(e) ?? (outcome === 'connError' && e instanceof Error ? e.message.slice(0, 60) : '');
    tally.add(outcome, why ? `${kind} (${why})` : kind);
    return outcome;
  }
}

/**
 * b) enqueue into a pool named by a new {language, region} pair, then cancel; one op is both
 * calls. The sessions connect before the attack window (an attacker brings them along); one
 * still connecting after PREPARE_MS joins the spray when it is ready.
 */
export const poolSpray: Attack = async (ctx) => {
  const none = () => {};
  const all: BenchClient[] = [];
  const free: BenchClient[] = [];
  const connecting = connectMany(SPRAY_SESSIONS, [ctx.url], ctx.secret, none, none, SPRAY_SESSIONS, false, [ctx.sourceAddress]).then(({ clients, failed }) => {
    for (let i = 0; i < failed; i++) ctx.tally.add('connError', 'session connect');
    all.push(...clients);
    free.push(...clients);
  });
  await Promise.race([connecting, sleep(PREPARE_MS)]);
  return async () => {
    await pace({
      ...ctx,
      op: async (i) => {
        const c = free.pop();
        if (!c) return 'noSession';
        try {
          // Never the colluders' language: the spray must not pair with them.
          const enqueued = await call(ctx.tally, 'enqueue', c.api.match.enqueue.mutate({ language: code('q', i), region: code('z', i) }));
          // A refused enqueue (4xx) left the session idle; one without an answer may have queued it.
          if (enqueued === '4xx') return;
          await call(ctx.tally, enqueued === 'ok' ? 'cancel' : 'cancel after no answer', c.api.match.cancel.mutate());
        } finally {
          free.push(c);
        }
      },
    });
    await Promise.race([connecting, sleep(REQUEST_TIMEOUT_MS)]);
    await Promise.allSettled(all.map((c) => c.close()));
  };
};

interface Pair {
  a: BenchClient;
  b: BenchClient;
  matchId: string;
}

// The largest description and candidate signal.send accepts (server/chat/router.ts).
const DESCRIPTION = { kind: 'description' as const, description: { type: 'offer' as const, sdp: `v=0\r\n${'a'.repeat(20_000 - 5)}` } };
const CANDIDATE = { kind: 'candidates' as const, candidates: [{ candidate: `candidate:${'1'.repeat(990)}`, sdpMid: '0', sdpMLineIndex: 0 }] };

/** Two fresh users queue in the colluders' pool, are paired with each other and join the call. */
async function newPair(ctx: AttackContext): Promise<Pair> {
  const partners = new Map<string, { matchId: string; partnerId: string }>();
  const onEvent = (uid: string, e: MatchEvent) => {
    if (e.type === 'matched') partners.set(uid, e);
  };
  const colluder = () => connectClient(ctx.url, ctx.secret, onEvent, () => {}, true, ctx.sourceAddress);
  const [a, b] = await Promise.all([colluder(), colluder()]);
  try {
    await withTimeout(a.api.match.enqueue.mutate({ language: ctx.language }));
    await withTimeout(b.api.match.enqueue.mutate({ language: ctx.language }));
    for (const deadline = Date.now() + PAIR_TIMEOUT_MS; !partners.has(b.userId); await sleep(20)) {
      if (ctx.signal.aborted) throw new Error('the attack ended before the colluders were paired');
      if (Date.now() > deadline) throw new Error('the colluders were not paired in time');
      if (partners.has(a.userId) && partners.get(a.userId)!.partnerId !== b.userId) throw new Error('a colluder was paired with someone else');
    }
    const { matchId, partnerId } = partners.get(b.userId)!;
    if (partnerId !== a.userId) throw new Error('a colluder was paired with someone else');
    await Promise.all([a, b].map((c) => withTimeout(c.api.match.joined.mutate({ matchId }))));
    return { a, b, matchId };
  } catch (e) {
    await retire({ a, b, matchId: '' });
    throw e;
  }
}

/**
 * Leaves the match and the queue, then closes both sockets; best effort. In order: a's end puts
 * b back in the queue, so b cancels after it (a colluder left waiting would be paired with the
 * next pair's first user); the calls that do not apply are refused harmlessly.
 */
async function retire(p: Pair): Promise<void> {
  const steps: Array<() => Promise<unknown>> = [
    () => p.a.api.match.end.mutate(),
    () => p.b.api.match.cancel.mutate(),
    () => p.a.api.match.cancel.mutate(),
    () => p.b.api.match.end.mutate(),
  ];
  for (const leave of steps) await withTimeout(leave()).catch(() => {});
  await Promise.allSettled([p.a.close(), p.b.close()]);
}

/** A colluding pair, or the one being formed in its place. */
interface Slot {
  pair: Pair | null;
  forming: Promise<void> | null;
  inflight: number;
}

/**
 * d) 20 KB descriptions and ICE candidates relayed in a loop, both ways, by PAIRS pairs. A pair
 * whose signals are refused (a per-match cap) is replaced by a fresh pair, as an attacker with
 * free sessions would. At most two calls in flight per pair, one per side: tRPC's wsLink sends
 * the calls a client makes in one tick as one WebSocket message, and three or four 20 KB
 * descriptions in one message are over WS_MAX_PAYLOAD (64 KB), which closes the socket.
 */
export const bigSignal: Attack = async (ctx) => {
  const slots: Slot[] = Array.from({ length: PAIRS }, () => ({ pair: null, forming: null, inflight: 0 }));
  const retiring = new Set<Promise<void>>();
  // One pair forms at a time: two pairs queueing at once would be paired across.
  let queue = Promise.resolve();
  const form = (s: Slot) =>
    (s.forming ??= queue =
      queue.then(async () => {
        try {
          s.pair = await newPair(ctx);
          ctx.tally.add('ok', 'pair formed');
        } catch (e) {
          ctx.tally.add('pairFailed', e instanceof Error ? e.message : String(e));
          await sleep(1000);
        } finally {
          s.forming = null;
        }
      }));
  const drop = (s: Slot, p: Pair) => {
    if (s.pair !== p) return;
    s.pair = null;
    const r = retire(p).finally(() => retiring.delete(r));
    retiring.add(r);
  };
  await Promise.all(slots.map(form)); // the first pairs before the attack window
  return async () => {
    await pace({
      ...ctx,
      op: async (i) => {
        const s = slots[i % PAIRS]!;
        const p = s.pair;
        if (!p) {
          if (!ctx.signal.aborted) void form(s);
          return 'noPair';
        }
        if (s.inflight >= 2) return 'shed';
        s.inflight++;
        const turn = Math.floor(i / PAIRS);
        const data = turn % 4 < 2 ? DESCRIPTION : CANDIDATE;
        try {
          const outcome = await call(ctx.tally, `signal.send ${data.kind}`, (turn % 2 ? p.a : p.b).api.signal.send.mutate({ matchId: p.matchId, data }));
          if (outcome !== 'ok') drop(s, p);
        } finally {
          s.inflight--;
        }
      },
    });
    await queue;
    for (const s of slots) if (s.pair) drop(s, s.pair);
    await Promise.allSettled(retiring);
  };
};
