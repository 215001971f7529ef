/**
 * EventStream: one subscriber's view of a user's event history, as an async iterator.
 *
 * A plain object rather than an async generator: an idle stream holds its cursor and, while its
 * consumer waits in next(), one pending promise. A wake-up (notify) marks it dirty; when the
 * consumer is waiting it reads the history after the cursor (READ_BATCH at a time) and hands
 * over the next event `select` keeps. Redis unreachable: it retries with backoff from the same
 * cursor and never fails the subscription. return() (or an abort, see EventHub.open) closes it
 * at once, even while a next() is pending, which then resolves as done.
 *
 * Live delivery without a read: each notification carries its event (`offer`). A stream whose
 * last read was short (it reached the end of the history) and was issued while the hub's
 * subscription was up (`generation()`) has seen everything up to its cursor, and Redis delivers
 * the notifications of everything written later, in order, on that one connection: so the next
 * offer is exactly the next event, and is taken as is. Anything else (an offer during a read,
 * after a full batch, after the subscriber connection dropped, or from another pool) only wakes
 * the stream, which then reads from its cursor as before.
 */
/**
 * Maps an event (its tracked id `<pool>|<streamId>`, and its JSON as the script wrote it) to what
 * the stream yields; undefined skips it. A throw fails the subscription (an unreadable event).
 */
export type Select<T> = (id: string, json: string) => T | undefined;

/** What the hub sees of a stream, whatever it yields. */
export interface Listener {
  readonly uid: string;
  /** The next stream of the same user on this process (the hub keeps them as a list). */
  sibling: Listener | null;
  notify(pool: string | null): void;
  /** A notification that carries its event: taken at once when the stream is live, else a wake-up. */
  offer(pool: string, id: string, json: string): void;
  /** Would a read find something: is the newest id in `pool` after the cursor, or is the cursor elsewhere? */
  behind(pool: string, newestId: string | null): boolean;
  /** The user's pool as this stream last saw it (a notification or a read), or null. */
  poolHint(): string | null;
  close(): void;
}

/** What a stream needs from the hub: Redis reads and leaving the hub when it closes. */
export interface StreamSource {
  poolOf(uid: string): Promise<string>;
  /** The subscriber connection's generation while it is up and subscribed; -1 while it is not. */
  generation(): number;
  read(uid: string, pool: string, afterId: string, count: number): Promise<Array<[string, string[]]>>;
  leave(stream: Listener): void;
}

const READ_BATCH = 100;
// While Redis is away a reader re-tries with backoff between these bounds.
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 2000;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

export class EventStream<T> implements AsyncIterableIterator<T>, AsyncDisposable, Listener {
  sibling: Listener | null = null;
  /** The user's pool as the last notification said; null: ask Redis on the next read. */
  private pool: string | null = null;
  private cursorPool = '';
  private cursorId = '0-0';
  private batch: Array<[string, string[]]> | null = null;
  private at = 0;
  /** Something may have been written after the cursor (a wake-up, or a full batch). */
  private dirty = true;
  private reading = false;
  /** The last read reached the end of the history while the subscription was up (see the header). */
  private live = false;
  /** The hub's subscription generation when the last read was issued. */
  private readGen = -1;
  private started = false;
  private closed = false;
  private backoff = 0;
  private retry: NodeJS.Timeout | undefined;
  private waiting: ((r: IteratorResult<T> | PromiseLike<IteratorResult<T>>) => void) | null = null;

  constructor(
    private readonly source: StreamSource,
    readonly uid: string,
    private readonly select: Select<T>,
  ) {}

  /** Fixes the starting cursor (EventHub.open does this once it is listening). */
  start(pool: string, cursorPool: string, cursorId: string): void {
    this.pool ??= pool;
    this.cursorPool = cursorPool;
    this.cursorId = cursorId;
    this.started = true;
    this.pump();
  }

  /** A wake-up: the user's history may have grown (`pool`: where; null: unknown, ask Redis). */
  notify(pool: string | null): void {
    this.pool = pool;
    this.dirty = true;
    this.live = false;
    this.pump();
  }

  offer(pool: string, id: string, json: string): void {
    if (this.closed) return;
    const live =
      this.live && this.started && !this.reading && !this.dirty && !this.retry && this.readGen === this.source.generation() && pool === this.cursorPool;
    if (!live || (this.pool !== null && this.pool !== pool)) return this.notify(pool);
    const batch = this.batch;
    const last = batch && batch.length > this.at ? batch[batch.length - 1]![0] : this.cursorId;
    if (!after(id, last)) return; // already read
    if (batch) batch.push([id, ['e', json]]);
    else {
      this.batch = [[id, ['e', json]]];
      this.at = 0;
    }
    this.settle();
  }

  poolHint(): string | null {
    return this.closed || !this.started ? null : (this.pool ?? this.cursorPool);
  }

  behind(pool: string, newestId: string | null): boolean {
    if (!this.started) return false; // its first read is still to come
    return pool !== this.cursorPool || (newestId !== null && after(newestId, this.cursorId));
  }

  next(): Promise<IteratorResult<T>> {
    let ready: IteratorResult<T> | null;
    try {
      ready = this.take();
    } catch (e) {
      return Promise.reject(asError(e));
    }
    if (ready) return Promise.resolve(ready);
    if (this.closed) return Promise.resolve(DONE);
    if (this.waiting) return Promise.reject(new Error('EventStream.next() called while another next() is pending'));
    const p = new Promise<IteratorResult<T>>((resolve) => (this.waiting = resolve));
    this.pump();
    return p;
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.batch = null;
    this.source.leave(this);
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(DONE);
  }

  /** The next buffered event `select` keeps, advancing the cursor past everything looked at. */
  private take(): IteratorResult<T> | null {
    const batch = this.batch;
    if (!batch) return null;
    while (this.at < batch.length) {
      const [id, fields] = batch[this.at++]!;
      this.cursorId = id;
      const json = fields[1];
      if (json === undefined) continue;
      const value = this.select(`${this.cursorPool}|${id}`, json);
      if (value !== undefined) return { value, done: false };
    }
    if (batch.length === READ_BATCH) this.dirty = true;
    this.batch = null;
    return null;
  }

  /** Reads when someone waits and something may be there, one read at a time. */
  private pump(): void {
    if (!this.waiting || !this.started || this.closed || this.reading || this.retry || !this.dirty) return;
    this.dirty = false;
    this.reading = true;
    void this.fill().then(() => {
      this.reading = false;
      this.settle();
    });
  }

  /** One read after the cursor into `batch`; never rejects (a failure schedules a retry). */
  private async fill(): Promise<void> {
    try {
      let pool = this.pool;
      if (pool === null) {
        pool = await this.source.poolOf(this.uid);
        // Kept for the next reads unless a wake-up came meanwhile (it may carry a newer pool).
        if (this.pool === null && !this.dirty) this.pool = pool;
      }
      // Moving pools drops the stale history there, so the new pool is read from its start.
      if (pool !== this.cursorPool) {
        this.cursorPool = pool;
        this.cursorId = '0-0';
      }
      const gen = this.source.generation();
      const entries = await this.source.read(this.uid, pool, this.cursorId, READ_BATCH);
      if (this.closed) return;
      this.batch = entries;
      this.at = 0;
      this.backoff = 0;
      this.readGen = gen;
      this.live = gen >= 0 && entries.length < READ_BATCH;
    } catch {
      // Redis unreachable: keep the subscription open and carry on from the same cursor when it
      // returns (meanwhile the client's calls answer "reconnecting"), rather than failing it.
      if (this.closed) return;
      this.dirty = true;
      this.live = false;
      this.backoff = Math.min(this.backoff ? this.backoff * 2 : RETRY_MIN_MS, RETRY_MAX_MS);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.pump();
      }, this.backoff);
    }
  }

  /** After a read: hand the waiting consumer an event, or wait for the next wake-up. */
  private settle(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    let ready: IteratorResult<T> | PromiseLike<IteratorResult<T>> | null;
    try {
      ready = this.take();
    } catch (e) {
      // An unreadable event fails the subscription, as a throwing generator would.
      ready = Promise.reject(asError(e));
    }
    if (!ready) return this.pump();
    this.waiting = null;
    waiting(ready);
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** Is stream id `a` ("ms-seq", both decimal) after `b`? Compared as numbers, without allocating. */
export function after(a: string, b: string): boolean {
  const ad = a.indexOf('-');
  const bd = b.indexOf('-');
  const c = compareDecimal(a, 0, ad < 0 ? a.length : ad, b, 0, bd < 0 ? b.length : bd);
  if (c !== 0) return c > 0;
  return compareDecimal(a, ad < 0 ? a.length : ad + 1, a.length, b, bd < 0 ? b.length : bd + 1, b.length) > 0;
}

/** Compares the decimal numbers a[as..ae) and b[bs..be) (no sign, no leading zeros but "0"). */
function compareDecimal(a: string, as: number, ae: number, b: string, bs: number, be: number): number {
  if (ae - as !== be - bs) return ae - as - (be - bs);
  for (let i = 0; i < ae - as; i++) {
    const d = a.charCodeAt(as + i) - b.charCodeAt(bs + i);
    if (d !== 0) return d;
  }
  return 0;
}
