/**
 * EventHub: live delivery of each user's event history.
 *
 * The history is a Redis stream per user (`ev:<uid>`, in the user's pool), written in the same
 * atomic script as the state change it reports, so an event exists iff its change committed.
 * Delivery: one subscriber connection per process SUBSCRIBEs to `n:<uid>` for the users with a
 * live subscription here (bounded connections, not one blocking read per subscriber); a message
 * (its payload is the user's pool) only wakes the reader, which then reads the stream from its
 * cursor. Resume is therefore exact on any process: the tracked id is `<pool>|<streamId>` and
 * the reader continues after it.
 *
 * `open()` subscribes and fixes the starting cursor *before* it returns the iterator, so a
 * subscription is listening before tRPC tells the client it has started: an action the client
 * takes right after can never slip between the two.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../state/keys';
import type { MatchEvent } from './types';

// A lost pub/sub message (subscriber reconnecting) is covered by re-reading at this interval.
const SAFETY_POLL_MS = 15_000;
const READ_BATCH = 100;
// While Redis is away a reader re-tries with backoff between these bounds.
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 2000;

export interface DeliveredEvent {
  id: string;
  event: MatchEvent;
}

type Waker = (pool: string | null) => void;

export class EventHub {
  private readonly waiters = new Map<string, Set<Waker>>();
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly sub: Redis,
    private readonly keys: Keys,
    private readonly poolOf: (uid: string) => Promise<string>,
  ) {
    this.prefix = keys.notifyPrefix();
    sub.on('message', (channel: string, pool: string) => this.wake(channel.slice(this.prefix.length), pool || null));
    // After a reconnect ioredis resubscribes; anything published meanwhile is re-read now.
    sub.on('ready', () => {
      for (const uid of this.waiters.keys()) this.wake(uid, null);
    });
  }

  /** How many users have a live subscription on this process. */
  get watching(): number {
    return this.waiters.size;
  }

  private wake(uid: string, pool: string | null): void {
    for (const fn of this.waiters.get(uid) ?? []) fn(pool);
  }

  private async watch(uid: string, fn: Waker): Promise<() => void> {
    let set = this.waiters.get(uid);
    if (!set) {
      set = new Set();
      this.waiters.set(uid, set);
      try {
        await this.sub.subscribe(this.keys.notify(uid));
      } catch (e) {
        // Not listening: leave no empty entry behind that would stop the next attempt subscribing.
        if (set.size === 0 && this.waiters.get(uid) === set) this.waiters.delete(uid);
        throw e;
      }
    }
    set.add(fn);
    const mine = set;
    return () => {
      mine.delete(fn);
      if (mine.size === 0 && this.waiters.get(uid) === mine) {
        this.waiters.delete(uid);
        this.sub.unsubscribe(this.keys.notify(uid)).catch(() => {});
      }
    };
  }

  /** The newest event in the user's history in `pool` (a cursor meaning "from now on"). */
  private async head(uid: string, pool: string): Promise<Cursor> {
    const last = await this.redis.xrevrange(this.keys.events(pool, uid), '+', '-', 'COUNT', 1);
    return { pool, id: last[0]?.[0] ?? '0-0' };
  }

  /**
   * Start listening to a user's events: every event after `lastEventId` (or after now when
   * absent or unreadable), then live ones, until `signal` aborts.
   */
  async open(uid: string, lastEventId: string | null | undefined, signal: AbortSignal): Promise<AsyncGenerator<DeliveredEvent>> {
    const state = { pending: deferred(), pool: null as string | null };
    const unwatch = await this.watch(uid, (pool) => {
      if (pool) state.pool = pool;
      state.pending.resolve();
    });
    // Released even if the iterator is dropped before its first step (the client left at once).
    signal.addEventListener('abort', unwatch, { once: true });
    try {
      const pool = await this.poolOf(uid);
      const cursor = (lastEventId && parseCursor(lastEventId)) || (await this.head(uid, pool));
      state.pool ??= pool;
      return this.loop(uid, cursor, state, signal, unwatch);
    } catch (e) {
      unwatch();
      throw e;
    }
  }

  private async *loop(
    uid: string,
    start: Cursor,
    state: { pending: Deferred; pool: string | null },
    signal: AbortSignal,
    unwatch: () => void,
  ): AsyncGenerator<DeliveredEvent> {
    let cursor = start;
    let backoff = RETRY_MIN_MS;
    try {
      while (!signal.aborted) {
        const wakeup = (state.pending = deferred());
        let entries: Array<[string, string[]]>;
        let pool: string;
        try {
          // The pool comes with each notification (the latest one wins); only after a silent
          // wake-up (the safety poll) is Redis asked.
          pool = state.pool ?? (await this.poolOf(uid));
          state.pool ??= pool;
          // Moving pools drops the stale history there, so the new pool is read from its start.
          if (pool !== cursor.pool) cursor = { pool, id: '0-0' };
          entries = await this.redis.xrange(this.keys.events(pool, uid), `(${cursor.id}`, '+', 'COUNT', READ_BATCH);
          backoff = RETRY_MIN_MS;
        } catch {
          // Redis unreachable: keep the subscription open and carry on from the same cursor when
          // it returns (meanwhile the client's calls answer "reconnecting"), rather than failing it.
          await waitFor(new Promise(() => {}), signal, backoff);
          backoff = Math.min(backoff * 2, RETRY_MAX_MS);
          continue;
        }
        for (const [id, fields] of entries) {
          cursor = { pool, id };
          const json = fields[1];
          if (json === undefined) continue;
          yield { id: `${pool}|${id}`, event: JSON.parse(json) as MatchEvent };
        }
        if (entries.length === READ_BATCH) continue;
        if ((await waitFor(wakeup.promise, signal, SAFETY_POLL_MS)) === 'timeout') state.pool = null;
      }
    } finally {
      unwatch();
    }
  }
}

interface Cursor {
  pool: string;
  id: string;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function parseCursor(id: string): Cursor | null {
  const bar = id.indexOf('|');
  const streamId = id.slice(bar + 1);
  if (bar < 1 || !/^\d+-\d+$/.test(streamId)) return null;
  return { pool: id.slice(0, bar), id: streamId };
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function waitFor(p: Promise<void>, signal: AbortSignal, ms: number): Promise<'woken' | 'timeout' | 'aborted'> {
  return new Promise((resolve) => {
    const done = (why: 'woken' | 'timeout' | 'aborted') => () => {
      clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onAbort = done('aborted');
    const t = setTimeout(done('timeout'), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    void p.then(done('woken'));
  });
}
