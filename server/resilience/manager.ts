/**
 * ErrorRecoveryManager: what happens after a failure. Every failure handed to it is classified
 * (classify.ts), recorded (errors_total, the audit trail) and met with its class's strategy:
 * transient ones were already retried by the dependency's policy; persistent and critical ones
 * need an action from outside the framework (pause a pool, flag an operator, end a session, shut
 * down, roll back, re-authenticate). The actions are injected, so the manager is testable and the
 * framework never reaches into other domains. Each recovery attempt is recorded with its
 * strategy, outcome and duration (recoveries_total, recovery_duration_seconds).
 *
 * An escalation with the same cause (strategy, code, pool, subject) is not repeated within
 * `escalationCooldownMs`: a thousand failing calls in a bad pool pause it and page a person once,
 * not a thousand times. Shutdown happens at most once per process. An action that throws makes
 * the outcome `failed` and is reported; it never replaces the error the caller sees.
 */
import { systemClock, type Clock } from '../shared/clock';
import { classify } from './classify';
import type { ResilienceConfig } from './config';
import { guardHooks, type GuardedHooks, type HookErrorReporter, type ResilienceHooks } from './hooks';
import { Outcome, Strategy, type Classification, type Dependency, type ErrorRecord } from './model';

type Maybe = Promise<void> | void;

/** What the composition root lends the manager. The record says why, for logs and audit. */
export interface RecoveryActions {
  /** Stop making matches in a pool (people in it stay where they are). */
  pausePool(pool: string, record: ErrorRecord): Maybe;
  /** Tell an operator (alert, admin queue). */
  flagOperator(record: ErrorRecord): Maybe;
  /** End a user's session now: close sockets, revoke the token, leave any match. */
  endSession(userId: string, record: ErrorRecord): Maybe;
  /** Graceful shutdown (the orchestrator restarts us). */
  shutdown(reason: string, record: ErrorRecord): Maybe;
  /** Put a subject (user or match) back to its last checkpoint. */
  rollbackToCheckpoint(subject: string, record: ErrorRecord): Maybe;
  /** Get fresh credentials for a dependency, or none: the client is told to sign in again by the error's code. */
  reauthenticate?(subject: string, record: ErrorRecord): Maybe;
}

export interface OperationContext {
  /** What was being done, for logs and audit ("match.enqueue", "room.delete"). */
  operation: string;
  /** The dependency whose policy the call ran under (it names the failure's type). */
  dependency?: Dependency;
  /** The matching pool; the pool to pause if the data turns out inconsistent. */
  pool?: string;
  userId?: string;
  /** What to roll back or re-authenticate (defaults to userId). */
  subject?: string;
}

export interface RecoveryManagerDeps {
  actions: RecoveryActions;
  config: Pick<ResilienceConfig, 'escalationCooldownMs'>;
  clock?: Clock;
  hooks?: ResilienceHooks;
  /** Where failing hooks and actions are reported (a logger). */
  report?: HookErrorReporter;
}

const MAX_MESSAGE = 500;

export class ErrorRecoveryManager {
  private readonly actions: RecoveryActions;
  private readonly cooldownMs: number;
  private readonly clock: Clock;
  private readonly hooks: GuardedHooks;
  private readonly report: HookErrorReporter;
  /** When each escalation (by key) was last made. */
  private readonly last = new Map<string, number>();
  private shutdownRequested = false;

  constructor(deps: RecoveryManagerDeps) {
    this.actions = deps.actions;
    this.cooldownMs = deps.config.escalationCooldownMs;
    this.clock = deps.clock ?? systemClock;
    this.report = deps.report ?? (() => {});
    this.hooks = guardHooks(deps.hooks ?? {}, this.report);
  }

  /** Classify, record and meet a failure with its strategy; returns the outcome (null: nothing to recover). */
  async recover(error: unknown, ctx: OperationContext): Promise<Outcome | null> {
    const since = this.clock.now();
    const c = classify(error, { dependency: ctx.dependency });
    const record = this.record(error, c, ctx);
    const outcome = await this.escalate(c, record, ctx);
    this.hooks.onError({ ...record, outcome, recovered: outcome === Outcome.Recovered });
    if (outcome) {
      const now = this.clock.now();
      this.hooks.onRecovery({
        at: now,
        strategy: c.strategy,
        outcome,
        durationMs: Math.max(0, now - since),
        failureType: c.type,
        operation: ctx.operation,
        pool: ctx.pool ?? null,
      });
    }
    return outcome;
  }

  private record(error: unknown, c: Classification, ctx: OperationContext): ErrorRecord {
    const message = error instanceof Error ? error.message : String(error);
    return {
      at: this.clock.now(),
      category: c.category,
      type: c.type,
      severity: c.severity,
      strategy: c.strategy,
      code: c.code,
      message: message.slice(0, MAX_MESSAGE),
      operation: ctx.operation,
      dependency: ctx.dependency ?? null,
      pool: ctx.pool ?? null,
      userId: ctx.userId ?? null,
      recovered: false,
      outcome: null,
    };
  }

  /** Carry out the strategy's action; null when there is nothing to recover (the caller's mistake). */
  private async escalate(c: Classification, record: ErrorRecord, ctx: OperationContext): Promise<Outcome | null> {
    const a = this.actions;
    const { pool, userId } = ctx;
    const subject = ctx.subject ?? userId;
    // Alerts and pauses are per cause and pool (not per user: one outage pages once); sessions are per user.
    const key = (who = '') => [c.strategy, c.code, pool ?? '', who].join('|');
    switch (c.strategy) {
      case Strategy.Reject:
        return null;
      // The policies carry these out themselves: a failure that reaches us means they did not work.
      case Strategy.RetryBackoff:
      case Strategy.Reconnect:
      case Strategy.RetryJitter:
        return Outcome.Failed;
      case Strategy.Reauthenticate:
        if (!a.reauthenticate || !subject) return Outcome.Escalated;
        return this.act('reauthenticate', () => a.reauthenticate!(subject, record), Outcome.Recovered);
      case Strategy.Rollback:
        if (!subject) return Outcome.Failed;
        return this.act('rollbackToCheckpoint', () => a.rollbackToCheckpoint(subject, record), Outcome.Recovered);
      case Strategy.BreakAndAlert:
      case Strategy.Alert:
        return this.once(key(), () => this.act('flagOperator', () => a.flagOperator(record)));
      case Strategy.PausePool:
        return this.once(key(), async () => {
          const paused = pool ? await this.act('pausePool', () => a.pausePool(pool, record)) : Outcome.Escalated;
          const flagged = await this.act('flagOperator', () => a.flagOperator(record));
          return paused === Outcome.Failed || flagged === Outcome.Failed ? Outcome.Failed : Outcome.Escalated;
        });
      case Strategy.EndSession:
        if (!userId) return this.once(key(), () => this.act('flagOperator', () => a.flagOperator(record)));
        return this.once(key(userId), () => this.act('endSession', () => a.endSession(userId, record)));
      case Strategy.Shutdown:
        if (this.shutdownRequested) return Outcome.Suppressed;
        this.shutdownRequested = true;
        return this.act('shutdown', () => a.shutdown(`${record.code}: ${record.message}`, record));
    }
  }

  private async act(name: string, fn: () => Maybe, ok: Outcome = Outcome.Escalated): Promise<Outcome> {
    try {
      await fn();
      return ok;
    } catch (e) {
      this.report(e, `action ${name}`);
      return Outcome.Failed;
    }
  }

  private async once(k: string, fn: () => Promise<Outcome>): Promise<Outcome> {
    const now = this.clock.now();
    const at = this.last.get(k);
    if (at !== undefined && now - at < this.cooldownMs) return Outcome.Suppressed;
    this.last.set(k, now);
    if (this.last.size > 10_000) for (const [kk, t] of this.last) if (now - t >= this.cooldownMs) this.last.delete(kk);
    return fn();
  }
}
