/**
 * ErrorRecoveryManager: what happens after a failure. Every failure handed to it is classified
 * (classify.ts), recorded (errors_total, the audit trail) and met with its class's strategy:
 * transient ones were already retried by the dependency's policy; persistent and critical
 * ones get an injected action (escalations.ts). Each recovery attempt is recorded with its
 * strategy, outcome and duration (recoveries_total, recovery_duration_seconds).
 */
import { systemClock, type Clock } from '../shared/clock';
import { classify } from './classify';
import type { ResilienceConfig } from './config';
import { Escalations, type RecoveryActions } from './escalations';
import { guardHooks, type GuardedHooks, type HookErrorReporter, type ResilienceHooks } from './hooks';
import { Outcome, type Classification, type Dependency, type ErrorRecord } from './model';

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
  private readonly clock: Clock;
  private readonly hooks: GuardedHooks;
  private readonly escalations: Escalations;

  constructor(deps: RecoveryManagerDeps) {
    this.clock = deps.clock ?? systemClock;
    const report = deps.report ?? (() => {});
    this.hooks = guardHooks(deps.hooks ?? {}, report);
    this.escalations = new Escalations(deps.actions, this.clock, deps.config.escalationCooldownMs, report);
  }

  /** Classify, record and meet a failure with its strategy; returns the outcome (null: nothing to recover). */
  async recover(error: unknown, ctx: OperationContext): Promise<Outcome | null> {
    const since = this.clock.now();
    const c = classify(error, { dependency: ctx.dependency });
    const record = this.record(error, c, ctx);
    const outcome = await this.escalations.run(c, record, { pool: ctx.pool, userId: ctx.userId, subject: ctx.subject ?? ctx.userId });
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
}
