/**
 * Classifying a failed audit write. "Transient" means the database could not take the batch at all
 * (unreachable, restarting, out of connections or disk, or the transaction lost a race): retry the
 * same batch later, unchanged. Anything else points at the rows themselves and is isolated row by
 * row. A "row rejection" (a data exception or an integrity violation) is about the values, so the
 * same record fails the same way on every delivery: the drain dead-letters it at the first one.
 * The rest (a statement timeout, a missing column before a migration, an error without a code)
 * may pass later and is retried by delivery count.
 *
 * Decided by the shared classification from error codes (SQLSTATE, errno) and from the few
 * node-postgres / PGlite connection messages that carry no code (anchored, so never from a message
 * that quotes the rows: drizzle's "Failed query: ... params: ..." is classified by its cause).
 *
 * The writes run under the Postgres policy (server/resilience), so its own refusals are transient
 * too: the breaker open, the per-attempt timeout, the bulkhead full. They say nothing about the
 * rows: the batch stays in the outbox and is retried, never split or dead-lettered.
 */
import { classify, isDependencyFailure } from '../resilience/classify';
import { ErrorType, Strategy } from '../resilience/model';

/**
 * The database (or the way to it, or the Postgres policy) failed: hold the batch. A SQLSTATE that
 * only says "this statement" is about the rows instead, so one record that always fails cannot
 * stall the drain.
 */
export function isTransientDbError(e: unknown): boolean {
  const c = classify(e, { dependency: 'postgres' });
  if (!isDependencyFailure(c)) return false;
  const statementLevel = c.rule.endsWith('postgres sqlstate') && (c.type === ErrorType.Timeout || c.strategy === Strategy.Alert);
  return !statementLevel;
}

/**
 * Postgres refused the values of the rows (a data exception or an integrity violation): retrying
 * cannot help. Not a duplicate (23505): every insert of the drain is ON CONFLICT DO NOTHING, so one
 * raised anyway is a race with a concurrent writer, which the next delivery absorbs.
 */
export function isRowRejection(e: unknown): boolean {
  const c = classify(e, { dependency: 'postgres' });
  return c.rule.endsWith('postgres sqlstate') && c.type === ErrorType.Validation && c.strategy === Strategy.Reject && c.code !== '23505';
}

/** A short description for dead_letters.error: the driver's code and message, without the query. */
export function describeDbError(e: unknown): string {
  const chain = causeChain(e);
  const root = [...chain].reverse().find((err) => !isDrizzleQueryError(err)) ?? chain[0];
  if (!root) return String(e);
  const code = typeof root.code === 'string' ? `${root.code} ` : '';
  return `${code}${root.message}`.slice(0, 2000);
}

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
