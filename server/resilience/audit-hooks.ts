/**
 * Hooks that feed the audit trail: every recorded error (with the strategy taken and its
 * outcome), every recovery and every breaker transition. The trail itself belongs to the audit
 * domain (server/audit/recorder.ts: recordError, recordRecovery, recordBreaker, which append to
 * the outbox and spool while Redis is away); the composition root adapts it to `AuditTrail`.
 * ErrorRecord and RecoveryRecord already have the fields those functions take.
 */
import type { ResilienceHooks } from './hooks';
import type { BreakerState, Dependency, ErrorRecord, RecoveryRecord } from './model';

export interface AuditTrail {
  error(record: ErrorRecord): Promise<unknown>;
  recovery(record: RecoveryRecord): Promise<unknown>;
  breaker(dependency: Dependency, state: BreakerState, at: number): Promise<unknown>;
}

/** A failing write is reported by the hook guard (hooks.ts) and never reaches the failing call. */
export function auditHooks(trail: AuditTrail, now: () => number): ResilienceHooks {
  return {
    onError: (r) => trail.error(r),
    onRecovery: (r) => trail.recovery(r),
    onBreakerState: (dependency, state) => trail.breaker(dependency, state, now()),
  };
}
