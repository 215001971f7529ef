/**
 * The load during a fault: real tRPC WebSocket clients (tests/support/client.ts), each one a user
 * who loops read-state -> act, the way the web client does: IDLE -> enqueue; WAITING -> wait, and
 * now and then give up (cancel); CONNECTING -> joined; IN_CALL -> chat, then skip or end.
 *
 * Every call has a deadline (HANG_MS): a call that has not answered by then is a hang, which is
 * what "timeouts, not hangs" is checked against. Every enqueue/cancel that returned success is an
 * acknowledged transition (the reply carries the user's new version) for the audit accounting.
 * `settle()` is the moment the dependency returns: each user finishes the call in hand and stops,
 * so what follows measures whether the system brings everyone to rest by itself.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import { connectUser, type TestUser } from '../../support/client';
import { HANG_MS } from './env';

export interface Ack {
  uid: string;
  version: number;
  op: 'enqueue' | 'cancel';
  /** Wall-clock window of the call: the transition's time lies inside it. */
  t0: number;
  t1: number;
}

export interface CallRecord {
  op: string;
  ok: boolean;
  code: string | null;
  at: number;
  ms: number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };

/** The app's error code of a failed call (`data.appCode`), or what kind of failure it was. */
export function errorCode(e: unknown): string {
  const data = (e as { data?: { appCode?: unknown } } | null)?.data;
  if (typeof data?.appCode === 'string') return data.appCode;
  return e instanceof Error ? e.message.slice(0, 60) : 'error';
}

/** Runs `fn` with a deadline; records it; never throws. */
export async function timed<T>(calls: CallRecord[] | null, op: string, fn: () => Promise<T>, deadlineMs = HANG_MS): Promise<Outcome<T>> {
  const at = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, code: 'HANG' }), deadlineMs);
  });
  const call = fn().then(
    (value): Outcome<T> => ({ ok: true, value }),
    (e: unknown): Outcome<T> => ({ ok: false, code: errorCode(e) }),
  );
  const r = await Promise.race([call, deadline]);
  clearTimeout(timer);
  calls?.push({ op, ok: r.ok, code: r.ok ? null : r.code, at, ms: Date.now() - at });
  return r;
}

/** Refusals that are the user's own race with their partner, not a failure of the system. */
const DOMAIN_CODES = new Set(['NOT_IN_MATCH', 'WRONG_STATE', 'INVALID_TRANSITION']);

const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

export class LoadUser {
  /** Every client this user has had (a user moved to another server gets a new one); the last is live. */
  readonly clients: TestUser[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;
  private waitingSince = 0;
  private inCallSince = 0;
  /** Per client: aborts its calls once its server died (their outcome is unknown). */
  private readonly aborts = new WeakMap<TestUser, AbortController>();

  constructor(
    /** The server this user is connected to now. */
    public url: string,
    first: TestUser,
    private readonly acks: Ack[],
    private readonly calls: CallRecord[],
  ) {
    this.clients.push(first);
  }

  get userId(): string {
    return this.clients[0]!.userId;
  }

  private get client(): TestUser {
    return this.clients.at(-1)!;
  }

  start(): void {
    this.stopped = false;
    this.loop ??= this.run().finally(() => (this.loop = null));
  }

  /** Stop after the call in hand; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Reconnect to another server (the old one died), resuming the event stream where it stopped. */
  async moveTo(url: string): Promise<void> {
    const old = this.client;
    this.abortOf(old).abort(); // also every call made on `old` from now until the new client is in place
    await old.close().catch(() => undefined);
    const next = await connectUser(url, { token: old.token, userId: old.userId, lastEventId: old.events.at(-1)?.id });
    this.clients.push(next);
    this.url = url;
  }

  private abortOf(c: TestUser): AbortController {
    let a = this.aborts.get(c);
    if (!a) this.aborts.set(c, (a = new AbortController()));
    return a;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.step();
      // Think time between actions, as a person (or the web client) would leave.
      await pause(rand(20, 60));
    }
  }

  private async step(): Promise<void> {
    const client = this.client;
    const api = client.api;
    const o = { signal: this.abortOf(client).signal };
    const me = await timed(this.calls, 'me', () => api.session.me.query(undefined, o));
    if (!me.ok || this.stopped) return;
    const s = me.value;
    const now = Date.now();
    if (s.state !== 'WAITING') this.waitingSince = 0;
    if (s.state !== 'IN_CALL') this.inCallSince = 0;
    switch (s.state) {
      case 'IDLE': {
        const t0 = Date.now();
        const r = await timed(this.calls, 'enqueue', () => api.match.enqueue.mutate({ idempotencyKey: randomUUID() }, o));
        if (r.ok) this.acks.push({ uid: this.userId, version: r.value.version, op: 'enqueue', t0, t1: Date.now() });
        return;
      }
      case 'WAITING': {
        this.waitingSince ||= now;
        // Most wait to be matched; some give up after a while, as people do.
        if (now - this.waitingSince > rand(300, 900) && Math.random() < 0.2) {
          const t0 = Date.now();
          const r = await timed(this.calls, 'cancel', () => api.match.cancel.mutate({ idempotencyKey: randomUUID() }, o));
          if (r.ok) this.acks.push({ uid: this.userId, version: r.value.version, op: 'cancel', t0, t1: Date.now() });
        }
        return;
      }
      case 'CONNECTING':
        if (s.matchId) await timed(this.calls, 'joined', () => api.match.joined.mutate({ matchId: s.matchId! }, o));
        return;
      case 'IN_CALL': {
        this.inCallSince ||= now;
        if (!s.matchId) return;
        const matchId = s.matchId;
        await timed(this.calls, 'chat', () => api.chat.send.mutate({ matchId, text: 'hello', clientMessageId: randomUUID() }, o));
        if (now - this.inCallSince < rand(100, 400) || this.stopped) return;
        const how = Math.random() < 0.5 ? 'skip' : 'end';
        await timed(this.calls, how, () => api.match[how].mutate({ matchId, idempotencyKey: randomUUID() }, o));
        return;
      }
      default:
        return;
    }
  }
}

export class Load {
  readonly acks: Ack[] = [];
  readonly calls: CallRecord[] = [];
  readonly users: LoadUser[] = [];

  /** Connects `n` users, spread round-robin over `urls`. */
  static async connect(urls: string[], n: number): Promise<Load> {
    const load = new Load();
    const at = (i: number) => urls[i % urls.length]!;
    const clients = await Promise.all(Array.from({ length: n }, (_, i) => connectUser(at(i), { displayName: `Load ${i}` })));
    clients.forEach((c, i) => load.users.push(new LoadUser(at(i), c, load.acks, load.calls)));
    return load;
  }

  start(): void {
    for (const u of this.users) u.start();
  }

  /** Every user finishes the call in hand and stops acting. */
  async settle(): Promise<void> {
    await Promise.all(this.users.map((u) => u.stop()));
  }

  async close(): Promise<void> {
    await Promise.all(this.users.map((u) => u.close()));
  }

  /** Acknowledged mutations (enqueue, cancel, joined, chat, skip, end) so far. */
  get acknowledged(): number {
    return this.calls.filter((c) => c.ok && c.op !== 'me').length;
  }

  /**
   * Calls started in [from, to): how many, how many failed, how many of those for a reason other
   * than the user's own race (chatting in a match the partner just left, ...), the slowest, how
   * many hung.
   */
  window(from: number, to: number): { calls: number; failed: number; unavailable: number; maxMs: number; hangs: number } {
    const inside = this.calls.filter((c) => c.at >= from && c.at < to);
    return {
      calls: inside.length,
      failed: inside.filter((c) => !c.ok).length,
      unavailable: inside.filter((c) => !c.ok && !DOMAIN_CODES.has(c.code!)).length,
      maxMs: inside.reduce((m, c) => Math.max(m, c.ms), 0),
      hangs: inside.filter((c) => c.code === 'HANG').length,
    };
  }
}
