/**
 * EventHub: live delivery of each user's event history.
 *
 * The history is a Redis stream per user (`ev:<uid>`, in the user's pool), written in the same
 * atomic script as the state change it reports, so an event exists iff its change committed.
 * Delivery: one subscriber connection per process listens to the channel of each user with a
 * live subscription here, in the user's pool (`{p:<pool>}:n:<uid>`; SSUBSCRIBE on a cluster, so a
 * pool's notifications stay on its shard; bounded connections, not one blocking read per
 * subscriber). A message carries the events (offered to the reader as they come) or only a pool,
 * which wakes the reader to read the stream from its cursor. A user who moves to another pool is
 * followed: the pool they leave says where they went, and the hub listens there before it wakes
 * the reader. Resume is therefore exact on any process: the tracked id is `<pool>|<streamId>` and
 * the reader continues after it.
 *
 * `open()` subscribes and fixes the starting cursor *before* it returns the stream, so a
 * subscription is listening before tRPC tells the client it has started: an action the client
 * takes right after can never slip between the two.
 *
 * Memory: an idle subscription is one small object (EventStream) and, while its consumer waits,
 * one pending promise: no generator, timer or listener per subscriber.
 *
 * Safety net for a lost notification: every stream is re-read every SAFETY_POLL_MS (safety-poll.ts).
 */
import { Redis } from 'ioredis';
import type { RedisClient } from '../infra/redis';
import { LimitExceededError } from '../state/errors';
import type { Keys } from '../state/keys';
import { eachLine, parseCursor, type Cursor } from './notification';
import { SafetyPoll } from './safety-poll';
import { EventStream, type Listener, type Select, type StreamSource } from './stream';
import type { MatchEvent } from './types';

// A lost pub/sub message (subscriber reconnecting) is covered by re-reading every subscription
// this often; the re-reads are spread over the interval, never all at once.
const SAFETY_POLL_MS = 15_000;

/** Where users' histories are: their pools, one or many at once. */
export interface PoolLookup {
  poolOf(uid: string): Promise<string>;
  poolsOf(uids: string[]): Promise<string[]>;
}

export interface HubOptions {
  /** Every stream is re-read this often (tests shorten it). */
  safetyPollMs?: number;
  /**
   * Live streams one user may hold on this process, over every socket and HTTP (SSE) request:
   * one more is refused (TOO_MANY_SUBSCRIPTIONS).
   */
  maxStreamsPerUser?: number;
}

export interface DeliveredEvent {
  id: string;
  event: MatchEvent;
}

const delivered: Select<DeliveredEvent> = (id, json) => ({ id, event: JSON.parse(json) as MatchEvent });

export class EventHub implements StreamSource {
  /** The streams of each user with a live subscription here, as a list through `sibling`. */
  private readonly streams = new Map<string, Listener>();
  /** The streams in those lists (the ws_subscriptions gauge). */
  private live = 0;
  /** SUBSCRIBE calls in flight, so a second stream for the same user waits for the first's. */
  private readonly subscribing = new Map<string, Promise<unknown>>();
  /** The pool whose channel each watched user is listened to in, and the channels' users. */
  private readonly listening = new Map<string, string>();
  private readonly users = new Map<string, string>();
  /** Sharded pub/sub (a cluster) or plain (one Redis): what the scripts publish with. */
  private readonly sharded: boolean;
  private readonly poll: SafetyPoll;
  /** Bumped whenever the subscriber connection closes (see generation()). */
  private gen = 0;
  /** Is the subscriber connection up with its subscriptions in force? */
  private subscribed: boolean;

  constructor(
    private readonly redis: RedisClient,
    private readonly sub: RedisClient,
    private readonly keys: Keys,
    private readonly pools: PoolLookup,
    private readonly opts: HubOptions = {},
  ) {
    this.poll = new SafetyPoll(redis, keys, pools, opts.safetyPollMs ?? SAFETY_POLL_MS, this.streams, (uid, pool, newest, failed) => {
      // Wakes the streams that have something after their cursor, or follows a user who moved.
      if (this.listening.get(uid) !== pool) return this.follow(uid, pool);
      for (let s: Listener | null | undefined = this.streams.get(uid); s; s = s.sibling) if (failed || s.behind(pool, newest)) s.notify(pool);
    });
    this.sharded = !(sub instanceof Redis);
    this.subscribed = sub.status === 'ready';
    // The connection also carries other channels (session revocations): only ours are events.
    sub.on(this.sharded ? 'smessage' : 'message', (channel: string, message: string) => {
      const uid = this.users.get(channel);
      if (uid !== undefined) this.onMessage(uid, message);
    });
    // While the subscriber connection is down, notifications are lost: no stream takes an offer
    // as the next event until it has read again with the subscription back up.
    sub.on('close', () => {
      this.gen++;
      this.subscribed = false;
    });
    // After a reconnect ioredis resubscribes; a PING behind the SUBSCRIBE commands on the same
    // connection answers once they are in force. Anything published meanwhile is re-read then.
    sub.on('ready', () => {
      const gen = this.gen;
      this.sub
        .ping()
        .then(() => {
          if (gen !== this.gen) return;
          this.subscribed = true;
          for (const uid of this.streams.keys()) this.wake(uid, null);
        })
        .catch(() => undefined);
    });
  }

  /**
   * The subscriber connection's generation while it is up and subscribed; -1 while it is not. On a
   * cluster always -1: ioredis does not tell when a shard's subscriber connection was lost and
   * came back, so a notification only wakes the reader, which reads the history from its cursor.
   */
  generation(): number {
    return this.subscribed && !this.sharded ? this.gen : -1;
  }

  /** A notification (see notification.ts): each event is offered to the user's streams, a bare pool wakes them. */
  private onMessage(uid: string, message: string): void {
    eachLine(message, (pool, id, json) => {
      if (id !== null) {
        for (let s: Listener | null | undefined = this.streams.get(uid); s; s = s.sibling) s.offer(pool, id, json);
      } else if (pool && pool !== this.listening.get(uid)) {
        this.follow(uid, pool);
      } else {
        this.wake(uid, pool || null);
      }
    });
  }

  /** The user is in `pool` now: listen there, stop listening where they were, then wake their streams. */
  private follow(uid: string, pool: string): void {
    const was = this.listening.get(uid);
    if (was === undefined || was === pool) return;
    this.listening.set(uid, pool);
    this.listen(uid, pool).then(
      async () => {
        this.unlisten(uid, was);
        if (this.listening.get(uid) !== pool) return this.unlisten(uid, pool); // followed elsewhere meanwhile
        this.wake(uid, pool);
        // A move announced before this subscription took effect was missed: ask where they are now.
        const now = await this.pools.poolOf(uid).catch(() => pool);
        if (now !== pool) this.follow(uid, now);
      },
      () => {
        if (this.listening.get(uid) === pool) this.listening.set(uid, was); // the safety poll tries again
        this.unlisten(uid, pool);
      },
    );
  }

  private listen(uid: string, pool: string): Promise<unknown> {
    const channel = this.keys.notify(pool, uid);
    this.users.set(channel, uid);
    return this.sharded ? this.sub.ssubscribe(channel) : this.sub.subscribe(channel);
  }

  private unlisten(uid: string, pool: string): void {
    const channel = this.keys.notify(pool, uid);
    if (this.users.get(channel) !== uid || this.listening.get(uid) === pool) return;
    this.users.delete(channel);
    (this.sharded ? this.sub.sunsubscribe(channel) : this.sub.unsubscribe(channel)).catch(() => {});
  }

  /**
   * The pool a user subscribed here was last seen in (their newest event, or their last read),
   * or null: a guess that saves asking Redis (StateStore.poolHint; the scripts check it).
   */
  poolHint(uid: string): string | null {
    return this.streams.get(uid)?.poolHint() ?? null;
  }

  /** Live streams of `uid` on this process. */
  streamsOf(uid: string): number {
    let n = 0;
    for (let s: Listener | null | undefined = this.streams.get(uid); s; s = s.sibling) n++;
    return n;
  }

  /** Live streams on this process, of every user. */
  get streamCount(): number {
    return this.live;
  }

  /** How many users have a live subscription on this process. */
  get watching(): number {
    return this.streams.size;
  }

  /**
   * Start listening to a user's events: every event after `lastEventId` (or after now when
   * absent or unreadable), then live ones, until the stream is returned (tRPC does so when the
   * subscription stops or the socket closes) or `signal` aborts. `select` maps each event to
   * what the stream yields, or skips it by returning undefined.
   */
  open(uid: string, lastEventId: string | null | undefined, signal?: AbortSignal | null): Promise<EventStream<DeliveredEvent>>;
  open<T>(uid: string, lastEventId: string | null | undefined, signal: AbortSignal | null | undefined, select: Select<T>): Promise<EventStream<T>>;
  async open<T>(uid: string, lastEventId: string | null | undefined, signal?: AbortSignal | null, select?: Select<T>): Promise<EventStream<T>> {
    const max = this.opts.maxStreamsPerUser;
    if (max !== undefined && this.streamsOf(uid) >= max) throw new LimitExceededError('TOO_MANY_SUBSCRIPTIONS', { max });
    const stream = new EventStream<T>(this, uid, select ?? (delivered as unknown as Select<T>));
    const pool = await this.poolOf(uid);
    // Checked again after the wait: streams opened meanwhile count too.
    if (max !== undefined && this.streamsOf(uid) >= max) throw new LimitExceededError('TOO_MANY_SUBSCRIPTIONS', { max });
    await this.join(stream, pool);
    try {
      const cursor = (lastEventId && parseCursor(lastEventId)) || (await this.head(uid, pool));
      stream.start(pool, cursor.pool, cursor.id);
    } catch (e) {
      stream.close();
      throw e;
    }
    if (signal) {
      if (signal.aborted) stream.close();
      else signal.addEventListener('abort', () => stream.close(), { once: true });
    }
    return stream;
  }

  poolOf(uid: string): Promise<string> {
    return this.pools.poolOf(uid);
  }

  async read(uid: string, pool: string, afterId: string, count: number): Promise<Array<[string, string[]]>> {
    return this.redis.xrange(this.keys.events(pool, uid), `(${afterId}`, '+', 'COUNT', count);
  }

  /** Adds the stream to its user's list; the first stream of a user listens to their channel in `pool`. */
  private async join(stream: Listener, pool: string): Promise<void> {
    const uid = stream.uid;
    const head = this.streams.get(uid);
    stream.sibling = head ?? null;
    this.streams.set(uid, stream);
    this.live++;
    this.poll.start();
    let subscribing = this.subscribing.get(uid);
    if (!head) {
      this.listening.set(uid, pool);
      const p = this.listen(uid, pool).finally(() => {
        if (this.subscribing.get(uid) === p) this.subscribing.delete(uid);
      });
      this.subscribing.set(uid, p);
      subscribing = p;
    } else if (this.listening.get(uid) !== pool) this.follow(uid, pool);
    if (!subscribing) return;
    try {
      await subscribing;
    } catch (e) {
      // Not listening: leave nothing behind (the next attempt subscribes again).
      stream.close();
      throw e;
    }
  }

  leave(stream: Listener): void {
    const uid = stream.uid;
    let s: Listener | null | undefined = this.streams.get(uid);
    if (s === stream) {
      this.live--;
      if (stream.sibling) this.streams.set(uid, stream.sibling);
      else {
        this.streams.delete(uid);
        const pool = this.listening.get(uid);
        this.listening.delete(uid);
        if (pool !== undefined) this.unlisten(uid, pool);
        if (this.streams.size === 0) this.poll.stop();
      }
    } else {
      while (s && s.sibling !== stream) s = s.sibling;
      if (s) {
        s.sibling = stream.sibling;
        this.live--;
      }
    }
    stream.sibling = null;
  }

  private wake(uid: string, pool: string | null): void {
    for (let s: Listener | null | undefined = this.streams.get(uid); s; s = s.sibling) s.notify(pool);
  }

  /** The newest event in the user's history in `pool` (a cursor meaning "from now on"). */
  private async head(uid: string, pool: string): Promise<Cursor> {
    const last = await this.redis.xrevrange(this.keys.events(pool, uid), '+', '-', 'COUNT', 1);
    return { pool, id: last[0]?.[0] ?? '0-0' };
  }
}
