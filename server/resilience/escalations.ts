/**
 * Escalations: the strategies that need an action from outside the framework (pause a pool,
 * flag an operator, end a session, shut down, roll back, re-authenticate). The actions are
 * injected, so the manager is testable and the framework never reaches into other domains.
 *
 * An escalation with the same cause (strategy, code, pool, subject) is not repeated within
 * `cooldownMs`: a thousand failing calls in a bad pool pause it and page a person once, not a
 * thousand times. Shutdown happens at most once per process. An action that throws makes the
 * outcome `failed` and is reported; it never replaces the error the caller sees.
 */
import type { Clock } from '../shared/clock';
import type { HookErrorReporter } from './hooks';
import { Outcome, Strategy, type Classification, type ErrorRecord } from './model';

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

export interface EscalationTarget {
  pool?: string | null;
  userId?: string | null;
  /** What to roll back or re-authenticate (a user or match id). */
  subject?: string | null;
}

export class Escalations {
  private readonly last = new Map<string, number>();
  private shutdownRequested = false;

  constructor(
    private readonly actions: RecoveryActions,
    private readonly clock: Clock,
    private readonly cooldownMs: number,
    private readonly report: HookErrorReporter = () => {},
  ) {}

  /** Carry out the strategy's action; null when there is nothing to recover (the caller's mistake). */
  async run(c: Classification, record: ErrorRecord, t: EscalationTarget): Promise<Outcome | null> {
    const a = this.actions;
    switch (c.strategy) {
      case Strategy.Reject:
        return null;
      // The policies carry these out themselves: a failure that reaches us means they did not work.
      case Strategy.RetryBackoff:
      case Strategy.Reconnect:
      case Strategy.RetryJitter:
        return Outcome.Failed;
      case Strategy.Reauthenticate:
        if (!a.reauthenticate || !t.subject) return Outcome.Escalated;
        return this.act('reauthenticate', () => a.reauthenticate!(t.subject!, record), Outcome.Recovered);
      case Strategy.Rollback:
        if (!t.subject) return Outcome.Failed;
        return this.act('rollbackToCheckpoint', () => a.rollbackToCheckpoint(t.subject!, record), Outcome.Recovered);
      case Strategy.BreakAndAlert:
      case Strategy.Alert:
        return this.once(key(c, t), () => this.act('flagOperator', () => a.flagOperator(record)));
      case Strategy.PausePool:
        return this.once(key(c, t), async () => {
          const paused = t.pool ? await this.act('pausePool', () => a.pausePool(t.pool!, record)) : Outcome.Escalated;
          const flagged = await this.act('flagOperator', () => a.flagOperator(record));
          return paused === Outcome.Failed || flagged === Outcome.Failed ? Outcome.Failed : Outcome.Escalated;
        });
      case Strategy.EndSession:
        if (!t.userId) return this.once(key(c, t), () => this.act('flagOperator', () => a.flagOperator(record)));
        return this.once(key(c, t, t.userId), () => this.act('endSession', () => a.endSession(t.userId!, record)));
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

/** Alerts and pauses are per cause and pool (not per user: one outage pages once); sessions are per user. */
function key(c: Classification, t: EscalationTarget, who = ''): string {
  return [c.strategy, c.code, t.pool ?? '', who].join('|');
}
