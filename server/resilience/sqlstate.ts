/**
 * Postgres errors by SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 * exact codes first, then the two-character class. Pure; part of the classification table, whose
 * rows (`row`) are defined here and used by classify.ts too.
 */
import { Category as C, ErrorType as T, Severity as S, Strategy as R, type Classification, type ErrorType } from './model';

export type Row = Omit<Classification, 'code' | 'rule'>;

/** `retryable` defaults to "transient". */
export const row = (
  category: Row['category'],
  type: ErrorType,
  severity: Row['severity'],
  strategy: Row['strategy'],
  retryable = category === C.Transient,
): Row => ({
  category,
  type,
  severity,
  strategy,
  retryable,
});

const EXACT: Record<string, Row> = {
  // Shutdowns and restarts: the pool reconnects to the server (or its replacement).
  '57P01': row(C.Transient, T.Postgres, S.High, R.Reconnect), // admin_shutdown
  '57P02': row(C.Transient, T.Postgres, S.High, R.Reconnect), // crash_shutdown
  '57P03': row(C.Transient, T.Postgres, S.High, R.Reconnect), // cannot_connect_now (starting up)
  '57P05': row(C.Transient, T.Postgres, S.Low, R.Reconnect), // idle_session_timeout
  '57P04': row(C.Persistent, T.Postgres, S.Critical, R.BreakAndAlert, false), // database_dropped
  '57014': row(C.Transient, T.Timeout, S.Medium, R.RetryBackoff), // query_canceled (statement_timeout)
  // Concurrency: the transaction lost a race and is safe to run again.
  '40001': row(C.Transient, T.Postgres, S.Low, R.RetryBackoff), // serialization_failure
  '40P01': row(C.Transient, T.Postgres, S.Low, R.RetryBackoff), // deadlock_detected
  '55P03': row(C.Transient, T.Postgres, S.Low, R.RetryBackoff), // lock_not_available
  '55006': row(C.Transient, T.Postgres, S.Low, R.RetryBackoff), // object_in_use
  // The database we were configured with is gone.
  '3D000': row(C.Persistent, T.Postgres, S.Critical, R.BreakAndAlert, false), // invalid_catalog_name
  // Storage-level corruption: stop writing into the mess and get a person.
  XX001: row(C.Critical, T.Postgres, S.Critical, R.PausePool, false), // data_corrupted
  XX002: row(C.Critical, T.Postgres, S.Critical, R.PausePool, false), // index_corrupted
};

const CLASSES: Record<string, Row> = {
  '08': row(C.Transient, T.Postgres, S.High, R.Reconnect), // connection exception
  '22': row(C.Persistent, T.Validation, S.Low, R.Reject), // data exception (bad value)
  '23': row(C.Persistent, T.Validation, S.Low, R.Reject), // integrity constraint violation
  '25': row(C.Persistent, T.Internal, S.High, R.Alert, false), // invalid transaction state (our bug)
  '28': row(C.Persistent, T.Auth, S.High, R.BreakAndAlert, false), // invalid authorization (static credentials: retrying cannot help)
  '40': row(C.Persistent, T.Postgres, S.Medium, R.Alert, false), // other transaction rollbacks
  '42': row(C.Persistent, T.Postgres, S.High, R.Alert, false), // syntax / undefined object: schema and code disagree (missing migration)
  '53': row(C.Persistent, T.Postgres, S.High, R.BreakAndAlert, false), // insufficient resources (disk, memory, connections)
  '54': row(C.Persistent, T.Internal, S.High, R.Alert, false), // program limit exceeded
  '57': row(C.Persistent, T.Postgres, S.High, R.Alert, false), // other operator intervention
  '58': row(C.Persistent, T.Postgres, S.Critical, R.BreakAndAlert, false), // system error (I/O)
  XX: row(C.Persistent, T.Postgres, S.High, R.Alert, false), // internal error
};

const OTHER = row(C.Persistent, T.Postgres, S.Medium, R.Alert, false);

export function sqlstateRow(sqlstate: string): Row {
  return EXACT[sqlstate] ?? CLASSES[sqlstate.slice(0, 2)] ?? OTHER;
}
