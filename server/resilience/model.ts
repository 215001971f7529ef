/**
 * The vocabulary of the recovery framework: what failed (type), how bad it is (category and
 * severity), and what we do about it (strategy). Each is a `const` object plus a derived union,
 * so the values double as metric labels and audit columns.
 */

/** The dependencies whose breakers and failures are tracked (each has a dependency policy: dependency-policy.ts). */
export const DEPENDENCIES = ['redis', 'postgres', 'livekit'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

/** Transient: may succeed if tried again. Persistent: will not, without a change. Critical: needs a person. */
export const Category = { Transient: 'transient', Persistent: 'persistent', Critical: 'critical' } as const;
export type Category = (typeof Category)[keyof typeof Category];

/** What failed. `internal` is for errors nothing else recognizes (usually a bug in our code). */
export const ErrorType = {
  Network: 'network',
  Timeout: 'timeout',
  Redis: 'redis',
  Postgres: 'postgres',
  Livekit: 'livekit',
  Validation: 'validation',
  Auth: 'auth',
  Matching: 'matching',
  Room: 'room',
  Security: 'security',
  Internal: 'internal',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

export const Severity = { Low: 'low', Medium: 'medium', High: 'high', Critical: 'critical' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/**
 * The recovery strategies. The first three are carried out by the retry policies themselves (the
 * manager only records the outcome); the rest call an injected action.
 */
export const Strategy = {
  /** Transient: exponential backoff retry. */
  RetryBackoff: 'retry_backoff',
  /** Transient connection loss: reconnect (ioredis/pg do it) and retry. */
  Reconnect: 'reconnect',
  /** Rate limits and load shedding: back off with jitter; never retry at once. */
  RetryJitter: 'retry_jitter',
  /** Persistent auth failure: get fresh credentials. */
  Reauthenticate: 'reauthenticate',
  /** Persistent state corruption: roll back to the last checkpoint. */
  Rollback: 'rollback',
  /** Persistent dependency failure or resource exhaustion: the breaker opens, an operator is told. */
  BreakAndAlert: 'break_and_alert',
  /** Critical data inconsistency: pause matching in the pool and flag an operator. */
  PausePool: 'pause_pool',
  /** Critical security violation: end the session at once. */
  EndSession: 'end_session',
  /** Critical system failure: graceful shutdown. */
  Shutdown: 'shutdown',
  /** Unrecognized error: tell an operator, change nothing. */
  Alert: 'alert',
  /** The caller's mistake: report it to them, nothing to recover. */
  Reject: 'reject',
} as const;
export type Strategy = (typeof Strategy)[keyof typeof Strategy];

/** What a recovery attempt came to (the `outcome` label of recoveries_total). */
export const Outcome = {
  /** The operation succeeded after failing (retry), or the action restored a good state. */
  Recovered: 'recovered',
  /** An action was taken that hands the problem on (pause, end session, shutdown, alert). */
  Escalated: 'escalated',
  /** Same escalation already made recently; not repeated. */
  Suppressed: 'suppressed',
  /** Retries ran out or the action itself failed. */
  Failed: 'failed',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/**
 * The one vocabulary of the `recoveries` table. `failure_type`: an error type (the failures the
 * recovery manager meets), or what the maintenance recoveries repair; `strategy`: a strategy
 * above, or theirs; `outcome`: an Outcome.
 */
export const RecoveryFailure = { ...ErrorType, StaleState: 'stale_state', RedisDataLoss: 'redis_data_loss' } as const;
export type RecoveryFailure = (typeof RecoveryFailure)[keyof typeof RecoveryFailure];
export const RecoveryStrategy = { ...Strategy, Cleanup: 'cleanup', RestoreFromCheckpoint: 'restore_from_checkpoint' } as const;
export type RecoveryStrategy = (typeof RecoveryStrategy)[keyof typeof RecoveryStrategy];

export interface Classification {
  category: Category;
  type: ErrorType;
  severity: Severity;
  strategy: Strategy;
  /** Worth retrying inside a dependency policy (transient, and not a fast-fail or load-shed). */
  retryable: boolean;
  /** A stable code for logs and audit: the error's own code, SQLSTATE, status or name. */
  code: string;
  /** Which table row matched (for tests and debugging). */
  rule: string;
}

/** One error, classified, as the audit trail's `errors` table stores it. */
export interface ErrorRecord {
  at: number;
  category: Category;
  type: ErrorType;
  severity: Severity;
  strategy: Strategy;
  code: string;
  message: string;
  operation: string | null;
  dependency: Dependency | null;
  pool: string | null;
  userId: string | null;
  /** Whether the strategy left things good (recovered). */
  recovered: boolean;
  outcome: Outcome | null;
}

/** One recovery attempt, as the audit trail's `recoveries` table stores it. */
export interface RecoveryRecord {
  at: number;
  strategy: Strategy;
  outcome: Outcome;
  durationMs: number;
  failureType: ErrorType;
  operation: string | null;
  pool: string | null;
}

/** Circuit state names (cockatiel's enum, spelled for labels and JSON). */
export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';
