/**
 * Classifying a failed audit write. "Transient" means the database could not take the batch at all
 * (unreachable, restarting, out of connections or disk, or the transaction lost a race): retry the
 * same batch later, unchanged. Anything else points at the rows themselves and is isolated row by
 * row. A "row rejection" (a data exception or an integrity violation) is about the values, so the
 * same record fails the same way on every delivery: the drain dead-letters it at the first one.
 * The rest (a statement timeout, a missing column before a migration, an error without a code)
 * may pass later and is retried by delivery count.
 *
 * Decided from error codes (SQLSTATE, errno) and from the few node-postgres / PGlite connection
 * messages that carry no code, never from a message that may quote the rows (drizzle's
 * "Failed query: ... params: ..." does, and a poison row whose values hold the state name
 * CONNECTING would then read as a connection failure).
 *
 * The writes run under the Postgres policy (server/resilience), so its own refusals are transient
 * too: the breaker open, the per-attempt timeout, the bulkhead full. They say nothing about the
 * rows: the batch stays in the outbox and is retried, never split or dead-lettered.
 */
import { BrokenCircuitError, BulkheadRejectedError, IsolatedCircuitError, TaskCancelledError } from 'cockatiel';

const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** SQLSTATEs: 40001 serialization failure, 40P01 deadlock, 55P03 lock not available (lock_timeout), 57P01-57P05 shutdown / cannot connect now / idle timeouts. */
const TRANSIENT_SQLSTATE = new Set(['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '57P04', '57P05']);
/** SQLSTATE classes: 08 connection exception, 53 insufficient resources, 58 system error (I/O). */
const TRANSIENT_CLASS = new Set(['08', '53', '58']);

/** SQLSTATE classes: 22 data exception (a NUL, a number or time out of range, text not of its type), 23 integrity constraint violation (not null, check). */
const REJECTION_CLASS = new Set(['22', '23']);
/**
 * 23505 unique_violation: every insert of the drain is ON CONFLICT DO NOTHING, so a duplicate
 * event is absorbed, never raised. Should one come anyway (a race with a concurrent writer), it
 * names a row that is already there, which the next delivery absorbs: it stays retried.
 */
const NOT_A_REJECTION = new Set(['23505']);

/** node-postgres, pg-pool and PGlite connection failures that have no code. */
const TRANSIENT_MESSAGE = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
  /^PGlite is closed/,
];

/** The Postgres policy refused or gave up on the call (cockatiel's own errors). */
export function isPolicyRefusal(e: unknown): boolean {
  return e instanceof BrokenCircuitError || e instanceof IsolatedCircuitError || e instanceof TaskCancelledError || e instanceof BulkheadRejectedError;
}

export function isTransientDbError(e: unknown): boolean {
  if (isPolicyRefusal(e)) return true;
  for (const err of causeChain(e)) {
    const code = typeof err.code === 'string' ? err.code : '';
    if (code) {
      if (TRANSIENT_ERRNO.has(code) || TRANSIENT_SQLSTATE.has(code)) return true;
      if (isSqlstate(code) && TRANSIENT_CLASS.has(code.slice(0, 2))) return true;
      continue;
    }
    if (!isDrizzleQueryError(err) && TRANSIENT_MESSAGE.some((re) => re.test(err.message))) return true;
  }
  return false;
}

/** Postgres refused the values of the rows (SQLSTATE class 22 or 23, not 23505): retrying cannot help. */
export function isRowRejection(e: unknown): boolean {
  if (isTransientDbError(e)) return false;
  return causeChain(e).some(({ code }) => typeof code === 'string' && isSqlstate(code) && REJECTION_CLASS.has(code.slice(0, 2)) && !NOT_A_REJECTION.has(code));
}

/** A short description for dead_letters.error: the driver's code and message, without the query. */
export function describeDbError(e: unknown): string {
  const chain = causeChain(e);
  const root = [...chain].reverse().find((err) => !isDrizzleQueryError(err)) ?? chain[0];
  if (!root) return String(e);
  const code = typeof root.code === 'string' ? `${root.code} ` : '';
  return `${code}${root.message}`.slice(0, 2000);
}

const isSqlstate = (code: string) => /^[0-9A-Z]{5}$/.test(code);

interface ErrorLike {
  message: string;
  code?: unknown;
  query?: unknown;
}

function causeChain(e: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let cur: unknown = e;
  for (let depth = 0; depth < 8 && typeof cur === 'object' && cur !== null; depth++) {
    const err = cur as ErrorLike & { cause?: unknown };
    out.push({ message: typeof err.message === 'string' ? err.message : JSON.stringify(cur), code: err.code, query: err.query });
    cur = err.cause;
  }
  return out;
}

function isDrizzleQueryError(err: ErrorLike): boolean {
  return typeof err.query === 'string' && err.message.startsWith('Failed query:');
}
