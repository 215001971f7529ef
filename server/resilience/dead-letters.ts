/**
 * Dead letters: operations that still failed after their retries (room deletion, notifications)
 * are stored durably with their payload, error and attempt count, retried later by the worker
 * (dead-letter-worker.ts) and, after too many attempts, parked until an operator retries or
 * discards them. Nothing is dropped silently.
 *
 * Redis layout, under a prefix the composition root passes in (it must carry a hash tag, e.g.
 * `rv:{dlq}:`, so every key is in one cluster slot and the scripts may touch letter hashes):
 *   <prefix>due        zset   letter id scored by next attempt time (ms); parked: +inf
 *   <prefix>l:<id>     hash   kind, payload (JSON), error, attempts, status, createdAt,
 *                             lastAttemptAt, nextAttemptAt, operation
 * Claiming leases a letter (moves its score to now + lease) and counts the attempt in one
 * script, so two workers never run the same letter and a worker that dies gives it back.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { Clock } from '../shared/clock';
import { ErrorType } from './model';

export interface DeadLetter {
  id: string;
  kind: string;
  payload: unknown;
  /** The last error, as text. */
  error: string;
  /** Attempts so far, the original call's included. */
  attempts: number;
  /** pending: the worker will retry it; parked: waiting for an operator. */
  status: 'pending' | 'parked';
  createdAt: number;
  lastAttemptAt: number | null;
  /** When it is due next (or its lease ends); null when parked. */
  nextAttemptAt: number | null;
  operation: string | null;
  /** What kind of failure put it here (for recovery_duration_seconds when it finally succeeds). */
  failureType: ErrorType | null;
}

export interface NewDeadLetter {
  kind: string;
  payload: unknown;
  error: string;
  attempts: number;
  operation?: string;
  failureType?: ErrorType;
  /** Default: now. */
  nextAttemptAt?: number;
  /** Retrying cannot help (the request itself was refused): keep it for an operator. */
  park?: boolean;
}

/** How the framework uses a dead-letter queue; the Redis implementation is below. */
export interface DeadLetterStore {
  add(letter: NewDeadLetter): Promise<DeadLetter>;
  get(id: string): Promise<DeadLetter | null>;
  /** In next-attempt order, parked letters last. */
  list(opts?: { offset?: number; limit?: number }): Promise<DeadLetter[]>;
  count(): Promise<number>;
  /** Lease up to `limit` due letters for `leaseMs`, counting an attempt on each. */
  claimDue(limit: number, leaseMs: number): Promise<DeadLetter[]>;
  /** Lease one letter now, due or not (an operator's "retry now"); null if it is gone. */
  claim(id: string, leaseMs: number): Promise<DeadLetter | null>;
  /** It worked: remove it. */
  complete(id: string): Promise<void>;
  /** It failed again: keep the error, retry at `nextAttemptAt`, or park it (null). */
  fail(id: string, error: string, nextAttemptAt: number | null): Promise<void>;
  /** Remove it without running it (an operator's decision); returns what was removed. */
  discard(id: string): Promise<DeadLetter | null>;
}

const SCRIPTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scripts');
const SCRIPTS = { rv_dlq_claim_due: 'dlq-claim-due-1.lua', rv_dlq_claim: 'dlq-claim-1.lua', rv_dlq_fail: 'dlq-fail-1.lua' } as const;

type DlqClient = Redis & {
  rv_dlq_claim_due(due: string, now: number, limit: number, leaseEnd: number, letterPrefix: string): Promise<Array<string | string[]>>;
  rv_dlq_claim(due: string, now: number, leaseEnd: number, letterKey: string, id: string): Promise<string[] | null>;
  rv_dlq_fail(due: string, letterKey: string, id: string, error: string, nextAttemptAt: string): Promise<number>;
};

function defineDlqScripts(redis: Redis): DlqClient {
  for (const [name, file] of Object.entries(SCRIPTS)) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] === 'function') continue;
    redis.defineCommand(name, { lua: readFileSync(join(SCRIPTS_DIR, file), 'utf8'), numberOfKeys: 1 });
  }
  return redis as DlqClient;
}

export class RedisDeadLetterStore implements DeadLetterStore {
  private readonly redis: DlqClient;
  private readonly due: string;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly clock: Clock,
    private readonly newId: () => string = randomUUID,
  ) {
    if (!/\{[^}]+\}/.test(prefix)) throw new Error(`Dead-letter key prefix "${prefix}" needs a hash tag, e.g. "rv:{dlq}:"`);
    this.redis = defineDlqScripts(redis);
    this.due = `${prefix}due`;
  }

  private key(id: string): string {
    return `${this.prefix}l:${id}`;
  }

  async add(l: NewDeadLetter): Promise<DeadLetter> {
    const now = this.clock.now();
    const letter: DeadLetter = {
      id: this.newId(),
      kind: l.kind,
      payload: l.payload ?? null,
      error: l.error,
      attempts: l.attempts,
      status: l.park ? 'parked' : 'pending',
      createdAt: now,
      lastAttemptAt: now,
      nextAttemptAt: l.park ? null : (l.nextAttemptAt ?? now),
      operation: l.operation ?? null,
      failureType: l.failureType ?? null,
    };
    await this.redis
      .multi()
      .hset(this.key(letter.id), toHash(letter))
      .zadd(this.due, letter.nextAttemptAt === null ? '+inf' : letter.nextAttemptAt, letter.id)
      .exec()
      .then(throwOnError);
    return letter;
  }

  async get(id: string): Promise<DeadLetter | null> {
    return fromHash(id, await this.redis.hgetall(this.key(id)));
  }

  async list(opts: { offset?: number; limit?: number } = {}): Promise<DeadLetter[]> {
    const offset = opts.offset ?? 0;
    const ids = await this.redis.zrange(this.due, String(offset), String(offset + (opts.limit ?? 100) - 1));
    if (!ids.length) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.key(id));
    const rows = throwOnError(await pipe.exec()) as Array<Record<string, string>>;
    return ids.flatMap((id, i) => {
      const l = fromHash(id, rows[i] ?? {});
      return l ? [l] : [];
    });
  }

  count(): Promise<number> {
    return this.redis.zcard(this.due);
  }

  async claimDue(limit: number, leaseMs: number): Promise<DeadLetter[]> {
    const now = this.clock.now();
    const flat = await this.redis.rv_dlq_claim_due(this.due, now, limit, now + leaseMs, `${this.prefix}l:`);
    const out: DeadLetter[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const l = fromHash(flat[i] as string, pairs(flat[i + 1] as string[]));
      if (l) out.push(l);
    }
    return out;
  }

  async claim(id: string, leaseMs: number): Promise<DeadLetter | null> {
    const now = this.clock.now();
    const fields = await this.redis.rv_dlq_claim(this.due, now, now + leaseMs, this.key(id), id);
    return fields ? fromHash(id, pairs(fields)) : null;
  }

  async complete(id: string): Promise<void> {
    await this.redis.multi().del(this.key(id)).zrem(this.due, id).exec().then(throwOnError);
  }

  async fail(id: string, error: string, nextAttemptAt: number | null): Promise<void> {
    await this.redis.rv_dlq_fail(this.due, this.key(id), id, error, nextAttemptAt === null ? '' : String(nextAttemptAt));
  }

  async discard(id: string): Promise<DeadLetter | null> {
    const letter = await this.get(id);
    await this.complete(id);
    return letter;
  }
}

function toHash(l: DeadLetter): Record<string, string> {
  return {
    kind: l.kind,
    payload: JSON.stringify(l.payload),
    error: l.error,
    attempts: String(l.attempts),
    status: l.status,
    createdAt: String(l.createdAt),
    lastAttemptAt: l.lastAttemptAt === null ? '' : String(l.lastAttemptAt),
    nextAttemptAt: l.nextAttemptAt === null ? '' : String(l.nextAttemptAt),
    operation: l.operation ?? '',
    failureType: l.failureType ?? '',
  };
}

function fromHash(id: string, h: Record<string, string>): DeadLetter | null {
  if (!h.kind) return null;
  const num = (v: string | undefined) => (v ? Number(v) : null);
  let payload: unknown;
  try {
    payload = JSON.parse(h.payload ?? 'null');
  } catch {
    payload = h.payload; // keep what is there rather than lose the letter
  }
  return {
    id,
    kind: h.kind,
    payload,
    error: h.error ?? '',
    attempts: Number(h.attempts ?? 0),
    status: h.status === 'parked' ? 'parked' : 'pending',
    createdAt: Number(h.createdAt ?? 0),
    lastAttemptAt: num(h.lastAttemptAt),
    nextAttemptAt: num(h.nextAttemptAt),
    operation: h.operation || null,
    failureType: isErrorType(h.failureType) ? h.failureType : null,
  };
}

const ERROR_TYPES = new Set<string>(Object.values(ErrorType));
function isErrorType(v: string | undefined): v is ErrorType {
  return v !== undefined && ERROR_TYPES.has(v);
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function throwOnError(results: Array<[Error | null, unknown]> | null): unknown[] {
  if (!results) throw new Error('Redis transaction was aborted');
  return results.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}
