/**
 * ErrorRecoveryManager: what happens after a failure. Every failure that reaches it is classified
 * (classify.ts), recorded (errors_total, the audit trail) and met with its class's strategy:
 * transient ones were already retried by the dependency's policy; persistent and critical
 * ones get an injected action (escalations.ts). Each recovery attempt is recorded with its
 * strategy, outcome and duration (recoveries_total, recovery_duration_seconds).
 *
 *   executeWithRecovery  run an operation under its pool's bulkhead and its dependency's policy
 */
import { systemClock, type Clock } from '../shared/clock';
import { classify } from './classify';
import type { ResilienceConfig } from './config';
import { isDataInconsistencyError } from './errors';
import { Escalations, handledByPolicy, type RecoveryActions } from './escalations';
import { guardHooks, type GuardedHooks, type HookErrorReporter, type ResilienceHooks } from './hooks';
import { Outcome, type Classification, type ErrorRecord } from './model';
import type { PolicyDependency, ResiliencePolicies } from './policies';

export interface OperationContext {
  /** What is being done, for logs and audit ("match.enqueue", "room.delete"). */
  operation: string;
  /** Run under this dependency's policy (bulkhead, retry, breaker, timeout). Without one nothing is retried. */
  dependency?: PolicyDependency;
  /** Run under this matching pool's bulkhead; the pool to pause if the data turns out inconsistent. */
  pool?: string;
  userId?: string;
  clientId?: string;
  /** What to roll back or re-authenticate (defaults to userId). */
  subject?: string;
  signal?: AbortSignal;
}

export interface RecoveryManagerDeps {
  policies: ResiliencePolicies;
  actions: RecoveryActions;
  config: Pick<ResilienceConfig, 'escalationCooldownMs'>;
  clock?: Clock;
  hooks?: ResilienceHooks;
  /** Where failing hooks and actions are reported (a logger). */
  report?: HookErrorReporter;
}

interface Failure {
  error: unknown;
  c: Classification;
  /** When the trouble began (the first failed attempt). */
  since: number;
}

type Attempt<T> = { ok: true; value: T } | ({ ok: false } & Failure);

const MAX_MESSAGE = 500;

export class ErrorRecoveryManager {
  private readonly clock: Clock;
  private readonly hooks: GuardedHooks;
  private readonly report: HookErrorReporter;
  private readonly escalations: Escalations;

  constructor(private readonly deps: RecoveryManagerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.report = deps.report ?? (() => {});
    this.hooks = guardHooks(deps.hooks ?? {}, this.report);
    this.escalations = new Escalations(deps.actions, this.clock, deps.config.escalationCooldownMs, this.report);
  }

  async executeWithRecovery<T>(operation: (signal: AbortSignal) => Promise<T> | T, context: OperationContext): Promise<T> {
    const r = await this.attempt(operation, context);
    if (r.ok) return r.value;
    await this.recover(r, context);
    throw r.error;
  }

  private async attempt<T>(operation: (signal: AbortSignal) => Promise<T> | T, ctx: OperationContext): Promise<Attempt<T>> {
    let since: number | null = null;
    let first: unknown;
    const once = async (signal: AbortSignal) => {
      try {
        return await operation(signal);
      } catch (e) {
        if (since === null) [since, first] = [this.clock.now(), e];
        throw e;
      }
    };
    const policy = ctx.dependency ? this.deps.policies.get(ctx.dependency) : null;
    const run = (signal?: AbortSignal) => (policy ? policy.execute(once, { signal }) : once(signal ?? new AbortController().signal));
    try {
      const value = await (ctx.pool ? this.deps.policies.pools.execute(ctx.pool, run, ctx.signal) : run(ctx.signal));
      if (since !== null) this.recovery(classify(first, { dependency: ctx.dependency }), Outcome.Recovered, since, ctx);
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error, c: classify(error, { dependency: ctx.dependency }), since: since ?? this.clock.now() };
    }
  }

  /** Run the strategy, record the error and the recovery; returns the final outcome. */
  private async recover(f: Failure, ctx: Omit<OperationContext, 'signal'>): Promise<Outcome | null> {
    const pool = ctx.pool ?? (isDataInconsistencyError(f.error) ? f.error.pool : undefined);
    const record = this.record(f, { ...ctx, pool }, null);
    const escalated = await this.escalations.run(f.c, record, { pool, userId: ctx.userId ?? ctx.clientId, subject: ctx.subject ?? ctx.userId });
    const fromPolicy = escalated === null && handledByPolicy(f.c.strategy) ? Outcome.Failed : null;
    const outcomes = [escalated, fromPolicy].filter((o): o is Outcome => o !== null);
    const outcome = outcomes[outcomes.length - 1] ?? null;
    this.hooks.onError({ ...record, outcome, recovered: outcome === Outcome.Recovered });
    for (const o of outcomes) this.recovery(f.c, o, f.since, { ...ctx, pool });
    return outcome;
  }

  private record(f: Failure, ctx: Omit<OperationContext, 'signal'>, outcome: Outcome | null): ErrorRecord {
    // Our critical errors carry a message for people and a `detail` for operators: audit wants the detail.
    const detail = (f.error as { detail?: unknown } | null)?.detail;
    const message = typeof detail === 'string' ? detail : f.error instanceof Error ? f.error.message : String(f.error);
    return {
      at: this.clock.now(),
      category: f.c.category,
      type: f.c.type,
      severity: f.c.severity,
      strategy: f.c.strategy,
      code: f.c.code,
      message: message.slice(0, MAX_MESSAGE),
      operation: ctx.operation,
      dependency: ctx.dependency ?? null,
      pool: ctx.pool ?? null,
      userId: ctx.userId ?? ctx.clientId ?? null,
      recovered: false,
      outcome,
    };
  }

  private recovery(c: Pick<Classification, 'strategy' | 'type'>, outcome: Outcome, since: number, ctx: { operation: string; pool?: string }): void {
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
}
