/**
 * The whole-call load driver: a closed-loop population of simulated people, each on a real tRPC
 * WebSocket client, going through the real call flow again and again (bench/flow/person.ts:
 * enqueue -> matched -> offer/answer/ICE candidates -> match.joined -> IN_CALL -> chat and
 * typing -> skip or end -> enqueue again). Used by `npm run bench -- --flow full` and by the soak.
 *
 * Absent people: each time a person enters WAITING (after an enqueue or a re-queue, before any
 * `matched`) and each time they reach IN_CALL, with probability `absent / 2` the driver closes
 * their socket a moment later (0-20 ms while waiting, 0-100 ms in a call, if they are still
 * there). With probability `returnShare` they come back after 0.5 s to 1.5 x `graceMs` (so some
 * within the servers' RECONNECT_GRACE_MS and some after it): same user id, the subscription
 * resumed from the last event id, then `session.me`, as the browser does. The others never come
 * back, and a new person takes their place at once (the population stays the same).
 * A match made while one of the pair was absent is a **ghost match** (FlowCounters.ghostMatches):
 * absent from when the generator closes the socket (before the server can know) until a new
 * socket of theirs opens (before the server can see it), so the count errs on the server's side
 * only by the close's own travel time, which ghostMatchesWithin10Ms/100Ms separate out. With
 * `droppedAt` (the bench reads the user's hash in Redis), a match the server made before it read
 * the close (it marked the person absent after the match's `at`) is moved from the ghosts to
 * `closesInFlight` a moment later; one it cannot place stays a ghost.
 *
 * Interface:
 *   const d = createFullCallDriver({ urls, secret, people: 1000, skip: 0.2, absent: 0.05, graceMs: 10_000 });
 *   await d.connect();          // { connected, failed }: sockets open and subscribed, nothing sent
 *   d.start();                  // everyone enqueues (spread over rampMs); calls run until stop()
 *   d.snapshot();               // counters since creation (diff two with diffCounters) and the
 *                               // latencies recorded since the last resetLatencies()
 *   d.resetLatencies();         // a long run should call it now and then: samples are kept
 *                               // (3 numbers a call) until it does
 *   await d.settleGhosts();     // stops counting new ghost matches and waits for the checks of
 *                               // those counted (droppedAt); then snapshot() has their verdicts
 *   await d.stop();             // closes every socket; the final snapshot
 * Options `onCall(record)` (each completed call) and `onError(e)` (each counted error) are
 * called synchronously from the driver's event handling: keep them cheap.
 */
import { randomUUID } from 'node:crypto';
import { LatencyRecorder, type LatencySummary } from '../lib/stats';
import { openConnection, type FlowConnection, type FrameCounter } from './connection';
import { bump, copyCounters, emptyCounters, type FlowCounters } from './counters';
import { Person, type CallRecord, type FlowContext } from './person';

export type { CallRecord } from './person';
export { diffCounters, type FlowCounters } from './counters';

export interface FullCallOptions {
  /** Server base URLs (http://host:port); people are spread over them round robin. */
  urls: string[];
  /** The servers' SESSION_SECRET: tokens are minted as session.create would. */
  secret: string;
  /** People in the population (each one socket); about people / 2 calls at a time. */
  people: number;
  /** Share of calls left by skip (both re-queued) rather than end (0..1). */
  skip: number;
  /** Probability per call of an absence (see the header), 0..1. */
  absent: number;
  /** The servers' RECONNECT_GRACE_MS: absent people come back 0.5 s .. 1.5 x this later. */
  graceMs: number;
  /** Share of absent people who come back (default 0.7). */
  returnShare?: number;
  /** Chat messages per side and call, each after a typing-on signal (default 2). */
  chatPerSide?: number;
  /** ICE candidates per side and call (default 4). */
  candidatesPerSide?: number;
  /**
   * The signals they go in (default 2: host candidates, then server-reflexive ones a STUN round
   * trip later; the web client sends what it gathered within CANDIDATE_BATCH_MS in one signal).
   */
  candidateBatches?: number;
  /**
   * When the server marked `uid` absent (their hash's `droppedAt`, server time), or null if it has
   * not (or the hash is gone). Optional: without it every match in an absence is a ghost.
   */
  droppedAt?: (uid: string) => Promise<number | null>;
  /** start() lets people in evenly over this long (default 1000 ms), not all in one burst. */
  rampMs?: number;
  onCall?(c: CallRecord): void;
  onError?(e: unknown): void;
}

export interface FullCallSnapshot {
  counters: FlowCounters;
  /** match.enqueue sent -> `matched` received. */
  enqueueToMatched: LatencySummary;
  /** Re-queued (partner left, or skip) -> `matched` received. */
  requeueToMatched: LatencySummary;
  /** `matched` -> `state` IN_CALL, per side, for calls no absence touched. */
  matchedToInCall: LatencySummary;
  /** People whose socket is closed right now and who will come back (those gone for good were replaced). */
  absentNow: number;
  /**
   * Connected people with no event for STALL_MS (longer than CONNECTING_TIMEOUT_MS): in this
   * closed loop everyone hears something every few seconds, so these are wedged pairs.
   */
  stalledNow: number;
}

export interface FullCallDriver {
  connect(): Promise<{ connected: number; failed: number }>;
  start(): void;
  snapshot(): FullCallSnapshot;
  settleGhosts(): Promise<void>;
  resetLatencies(): void;
  stop(): Promise<FullCallSnapshot>;
}

// Sockets opened at a time while connecting the population (as the churn does).
const CONNECT_CONCURRENCY = 250;
// How long a person who left for good is still known after their grace (ghost accounting).
const GONE_KEEP_MS = 5000;
// Matches are forgotten this long after an absence touched them: a call of this flow lasts seconds,
// and CONNECTING_TIMEOUT_MS ends one that never started.
const MATCH_MEMORY_MS = 10 * 60_000;
const HOUSEKEEPING_MS = 30_000;
const STALL_MS = 20_000;
// How long after a ghost match the driver asks when the server marked the person absent: time
// for the close to be read (a person comes back 500 ms after a drop at the earliest).
const CLOSE_SETTLE_MS = 250;

const between = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

export function createFullCallDriver(o: FullCallOptions): FullCallDriver {
  const counters = emptyCounters();
  const frames: FrameCounter = counters.frames;
  const people = new Map<string, Person>();
  // matchId -> when it was noted; pruned by housekeeping() so a soak of hours stays flat.
  const disturbed = new Map<string, number>();
  const ghosts = new Map<string, number>();
  const ghostChecks = new Set<Promise<void>>();
  let ghostsSettled = false;
  const gone = new Set<string>();
  let housekeeper: NodeJS.Timeout | null = null;
  const timers = new Set<NodeJS.Timeout>();
  let latency = { enqueueToMatched: new LatencyRecorder(), requeueToMatched: new LatencyRecorder(), matchedToInCall: new LatencyRecorder() };
  let stopped = false;
  let started = false;
  let next = 0;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!stopped) fn();
    }, ms);
    timers.add(t);
  };

  const fail = (e: unknown) => {
    counters.errors++;
    counters.lastError = e instanceof Error ? e.message : String(e);
    o.onError?.(e);
  };

  const ctx: FlowContext = {
    counters,
    get latency() {
      return latency;
    },
    skip: o.skip,
    chatPerSide: o.chatPerSide ?? 2,
    candidatesPerSide: o.candidatesPerSide ?? 4,
    candidateBatches: o.candidateBatches ?? 2,
    stopped: () => stopped,
    absentFor(uid, at) {
      const p = people.get(uid);
      if (!p || p.absentSince === null || p.absentSince > at || (p.backAt !== null && p.backAt <= at)) return null;
      return at - p.absentSince;
    },
    disturb: (matchId) => void disturbed.set(matchId, Date.now()),
    disturbed: (matchId) => disturbed.has(matchId),
    ghost(matchId, uid, at, absentMs) {
      if (ghosts.has(matchId) || ghostsSettled) return;
      ghosts.set(matchId, Date.now());
      // Counted at once (a window that ends before the check below keeps it as a ghost).
      const within = (n: number) => (n > 0 ? 1 : 0);
      const add = (sign: 1 | -1) => {
        counters.ghostMatches += sign;
        counters.ghostMatchesWithin10Ms += sign * within(10 - absentMs);
        counters.ghostMatchesWithin100Ms += sign * within(100 - absentMs);
      };
      add(1);
      if (!o.droppedAt) return;
      const check = new Promise((r) => setTimeout(r, CLOSE_SETTLE_MS))
        .then(() => o.droppedAt!(uid))
        .then(
          (dropped) => {
            if (dropped === null || dropped <= at) return;
            add(-1);
            counters.closesInFlight++;
          },
          () => undefined, // cannot place it: it stays a ghost
        );
      ghostChecks.add(check);
      void check.finally(() => ghostChecks.delete(check));
    },
    onCall: (c) => o.onCall?.(c),
    onError: (e) => o.onError?.(e),
    mayDrop(p, where) {
      if (Math.random() >= o.absent / 2) return;
      later(where === 'WAITING' ? between(0, 20) : between(0, 100), () => {
        if (p.state === where && p.conn) drop(p, where);
      });
    },
  };

  const url = () => o.urls[next++ % o.urls.length]!;

  async function open(p: Person) {
    return openConnection({
      url: url(),
      secret: o.secret,
      userId: p.uid,
      lastEventId: p.lastEventId,
      onEvent: (id, e) => p.onEvent(id, e),
      onError: fail,
      onOpen: () => p.opened(),
      frames,
    });
  }

  async function join(): Promise<Person | null> {
    const p = new Person(randomUUID(), ctx);
    people.set(p.uid, p);
    try {
      p.conn = await open(p);
      return p;
    } catch (e) {
      people.delete(p.uid);
      fail(e);
      return null;
    }
  }

  function drop(p: Person, where: 'WAITING' | 'IN_CALL') {
    p.detach();
    counters[where === 'WAITING' ? 'dropsWaiting' : 'dropsInCall']++;
    if (Math.random() < (o.returnShare ?? 0.7)) return later(between(500, 1.5 * o.graceMs), () => void comeBack(p));
    leaveForGood(p);
  }

  /** Someone new arrives in their place. */
  function leaveForGood(p: Person) {
    // The person stays in `people` until the server has surely given up on them (grace over,
    // back to IDLE, never to be matched), so ghosts can still be told.
    counters.gone++;
    gone.add(p.uid);
    later(2 * o.graceMs + GONE_KEEP_MS, () => {
      people.delete(p.uid);
      gone.delete(p.uid);
    });
    void join().then((n) => n?.progress());
  }

  async function comeBack(p: Person) {
    p.reconnecting();
    let conn: FlowConnection | null = null;
    try {
      conn = await open(p);
      bump(counters.sent, 'session.me');
      const me = await conn.api.session.me.query();
      bump(counters.received, 'reply session.me');
      counters.reconnects++;
      if (stopped) return conn.close();
      p.resume(conn, { state: me.state, version: me.version, matchId: me.matchId ?? null });
    } catch (e) {
      conn?.close();
      // Absent again from now if their new socket had opened; if not, still since the first drop.
      if (p.backAt !== null) p.detach();
      if (stopped) return;
      fail(e);
      leaveForGood(p);
    }
  }

  const snapshot = (): FullCallSnapshot => ({
    counters: copyCounters(counters),
    enqueueToMatched: latency.enqueueToMatched.summary(),
    requeueToMatched: latency.requeueToMatched.summary(),
    matchedToInCall: latency.matchedToInCall.summary(),
    absentNow: [...people.values()].filter((p) => p.conn === null && !gone.has(p.uid)).length,
    stalledNow: [...people.values()].filter((p) => (p.quietFor(Date.now()) ?? 0) > STALL_MS).length,
  });

  return {
    async connect() {
      let connected = 0;
      for (let i = 0; i < o.people; i += CONNECT_CONCURRENCY) {
        const batch = await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, o.people - i) }, join));
        connected += batch.filter(Boolean).length;
      }
      return { connected, failed: o.people - connected };
    },
    start() {
      if (started) return;
      started = true;
      housekeeper = setInterval(() => {
        const old = Date.now() - MATCH_MEMORY_MS;
        for (const m of [disturbed, ghosts]) for (const [id, at] of m) if (at < old) m.delete(id);
      }, HOUSEKEEPING_MS);
      housekeeper.unref();
      const all = [...people.values()];
      const step = (o.rampMs ?? 1000) / Math.max(1, all.length);
      all.forEach((p, i) => later(i * step, () => p.progress()));
    },
    snapshot,
    async settleGhosts() {
      ghostsSettled = true;
      await Promise.all([...ghostChecks]);
    },
    resetLatencies() {
      latency = { enqueueToMatched: new LatencyRecorder(), requeueToMatched: new LatencyRecorder(), matchedToInCall: new LatencyRecorder() };
    },
    async stop() {
      stopped = true;
      if (housekeeper) clearInterval(housekeeper);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const last = snapshot();
      for (const p of people.values()) p.conn?.close();
      return last;
    },
  };
}
