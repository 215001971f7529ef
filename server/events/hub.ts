/**
 * EventHub: live delivery of each user's event history.
 *
 * The history is a Redis stream per user (`ev:<uid>`, in the user's pool), written in the same
 * atomic script as the state change it reports, so an event exists iff its change committed.
 * Delivery: one subscriber connection per process SUBSCRIBEs to `n:<uid>` for the users with a
 * live subscription here (bounded connections, not one blocking read per subscriber); a message
 * only wakes the reader, which then reads the stream from its cursor. Resume is therefore exact
 * on any process: the tracked id is `<pool>|<streamId>` and the reader continues after it.
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

export class EventHub {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly sub: Redis,
    private readonly keys: Keys,
    private readonly poolOf: (uid: string) => Promise<string>,
  ) {
    this.prefix = keys.notifyPrefix();
    sub.on('message', (channel: string) => this.wake(channel.slice(this.prefix.length)));
    // After a reconnect ioredis resubscribes; anything published meanwhile is re-read now.
    sub.on('ready', () => {
      for (const uid of this.waiters.keys()) this.wake(uid);
    });
  }

  /** How many users have a live subscription on this process. */
  get watching(): number {
    return this.waiters.size;
  }

  private wake(uid: string): void {
    for (const fn of this.waiters.get(uid) ?? []) fn();
  }

  private async watch(uid: string, fn: () => void): Promise<() => void> {
    let set = this.waiters.get(uid);
    if (!set) {
      set = new Set();
      this.waiters.set(uid, set);
      await this.sub.subscribe(this.keys.notify(uid));
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.waiters.get(uid) === set) {
        this.waiters.delete(uid);
        this.sub.unsubscribe(this.keys.notify(uid)).catch(() => {});
      }
    };
  }

  /** The id of the newest event in the user's history (a cursor meaning "from now on"). */
  async head(uid: string): Promise<string> {
    const pool = await this.poolOf(uid);
    const last = await this.redis.xrevrange(this.keys.events(pool, uid), '+', '-', 'COUNT', 1);
    return `${pool}|${last[0]?.[0] ?? '0-0'}`;
  }

  /**
   * Every event after `lastEventId` (or after now when absent), then live ones, until `signal`
   * aborts. Listens before replaying, so nothing slips between the two.
   */
  async *stream(uid: string, lastEventId: string | null | undefined, signal: AbortSignal): AsyncGenerator<DeliveredEvent> {
    let pending = deferred();
    const unwatch = await this.watch(uid, () => pending.resolve());
    try {
      // An unreadable id (not one we issued) resumes from now rather than replaying everything.
      let cursor = (lastEventId && parseCursor(lastEventId)) || parseCursor(await this.head(uid))!;
      let backoff = RETRY_MIN_MS;
      while (!signal.aborted) {
        const wakeup = (pending = deferred());
        let pool: string;
        let entries: Array<[string, string[]]>;
        try {
          pool = await this.poolOf(uid);
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
        await waitFor(wakeup.promise, signal, SAFETY_POLL_MS);
      }
    } finally {
      unwatch();
    }
  }
}

function parseCursor(id: string): { pool: string; id: string } | null {
  const bar = id.indexOf('|');
  const streamId = id.slice(bar + 1);
  if (bar < 1 || !/^\d+-\d+$/.test(streamId)) return null;
  return { pool: id.slice(0, bar), id: streamId };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function waitFor(p: Promise<void>, signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    void p.then(done);
  });
}
