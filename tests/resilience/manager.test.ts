import { BulkheadRejectedError } from 'cockatiel';
import { ReplyError } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RecoveryActions } from '../../server/resilience/escalations';
import { DataInconsistencyError, SecurityViolationError, SystemFailureError } from '../../server/resilience/errors';
import { ErrorRecoveryManager } from '../../server/resilience/manager';
import type { ErrorRecord, RecoveryRecord } from '../../server/resilience/model';
import { createResiliencePolicies } from '../../server/resilience/policies';
import { InvalidTokenError } from '../../server/session/token';
import { NotInMatchError, StoreUnavailableError } from '../../server/state/errors';
import { deferred, settle, sysError, testConfig } from './support';

function setup(opts: { actions?: Partial<RecoveryActions>; throwingHooks?: boolean } = {}) {
  const cfg = testConfig();
  const errors: ErrorRecord[] = [];
  const recoveries: RecoveryRecord[] = [];
  const reported: string[] = [];
  const calls: string[] = [];
  const actions: RecoveryActions = {
    pausePool: (pool) => void calls.push(`pausePool ${pool}`),
    flagOperator: (r) => void calls.push(`flagOperator ${r.code}`),
    endSession: (userId) => void calls.push(`endSession ${userId}`),
    shutdown: (reason) => void calls.push(`shutdown ${reason}`),
    rollbackToCheckpoint: (subject) => void calls.push(`rollback ${subject}`),
    ...opts.actions,
  };
  const hooks = opts.throwingHooks
    ? {
        onError: () => {
          throw new Error('hook bug');
        },
        onRecovery: () => Promise.reject(new Error('async hook bug')),
      }
    : { onError: (r: ErrorRecord) => void errors.push(r), onRecovery: (r: RecoveryRecord) => void recoveries.push(r) };
  const policies = createResiliencePolicies(cfg);
  const manager = new ErrorRecoveryManager({
    policies,
    actions,
    config: cfg,
    clock: { now: () => Date.now() },
    hooks,
    report: (e, where) => reported.push(`${where}: ${(e as Error).message}`),
  });
  return { manager, policies, errors, recoveries, calls, reported, cfg };
}

/** The code classify.ts maps to a rollback to the last checkpoint. */
const pairInconsistent = () => Object.assign(new Error('pair m-42 is inconsistent'), { code: 'PAIR_INCONSISTENT' });
const oom = () => new (ReplyError as new (m: string) => Error)("OOM command not allowed when used memory > 'maxmemory'.");

describe('ErrorRecoveryManager.executeWithRecovery', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a transient failure that a retry fixes is recorded as recovered, with the time it took', async () => {
    const { manager, errors, recoveries } = setup();
    let calls = 0;
    const result = settle(
      manager.executeWithRecovery(
        () => {
          if (++calls === 1) throw sysError('ECONNRESET');
          return 'ok';
        },
        { operation: 'match.enqueue', dependency: 'redis' },
      ),
    );
    await vi.runAllTimersAsync();
    expect(await result).toEqual({ ok: true, value: 'ok' });
    expect(errors).toEqual([]);
    expect(recoveries).toEqual([
      expect.objectContaining({ strategy: 'reconnect', outcome: 'recovered', durationMs: 100, failureType: 'redis', operation: 'match.enqueue' }),
    ]);
  });

  it('a transient failure that outlasts its retries is rethrown, recorded as an error and a failed recovery', async () => {
    const { manager, errors, recoveries, calls } = setup();
    const refused = sysError('ECONNREFUSED');
    const result = settle(manager.executeWithRecovery(() => Promise.reject(refused), { operation: 'audit.write', dependency: 'postgres', userId: 'u1' }));
    await vi.runAllTimersAsync();
    expect(await result).toEqual({ ok: false, error: refused });
    expect(errors).toEqual([
      expect.objectContaining({
        category: 'transient',
        type: 'postgres',
        strategy: 'reconnect',
        outcome: 'failed',
        recovered: false,
        dependency: 'postgres',
        userId: 'u1',
        code: 'ECONNREFUSED',
      }),
    ]);
    expect(recoveries).toEqual([expect.objectContaining({ strategy: 'reconnect', outcome: 'failed', durationMs: 200 })]);
    expect(calls).toEqual([]);
  });

  it("the caller's own mistake is rethrown and recorded, with no recovery and no action", async () => {
    const { manager, errors, recoveries, calls } = setup();
    const e = new NotInMatchError();
    await expect(manager.executeWithRecovery(() => Promise.reject(e), { operation: 'chat.send', dependency: 'redis' })).rejects.toBe(e);
    expect(errors).toEqual([expect.objectContaining({ type: 'validation', strategy: 'reject', outcome: null })]);
    expect(recoveries).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('data inconsistency pauses the pool and flags an operator, once per cooldown', async () => {
    const { manager, calls, cfg } = setup();
    const fail = () =>
      manager.executeWithRecovery(() => Promise.reject(new DataInconsistencyError('user in two sets')), { operation: 'match.sweep', pool: 'en' });
    await expect(fail()).rejects.toBeInstanceOf(DataInconsistencyError);
    await expect(fail()).rejects.toBeInstanceOf(DataInconsistencyError);
    expect(calls).toEqual(['pausePool en', 'flagOperator DATA_INCONSISTENT']);
    vi.advanceTimersByTime(cfg.escalationCooldownMs);
    await expect(fail()).rejects.toBeInstanceOf(DataInconsistencyError);
    expect(calls).toHaveLength(4);
  });

  it('the pool to pause can come from the error itself', async () => {
    const { manager, calls } = setup();
    await settle(manager.executeWithRecovery(() => Promise.reject(new DataInconsistencyError('x', 'fr')), { operation: 'repair' }));
    expect(calls).toEqual(['pausePool fr', 'flagOperator DATA_INCONSISTENT']);
  });

  it("a security violation ends the user's session", async () => {
    const { manager, calls, errors } = setup();
    await settle(
      manager.executeWithRecovery(() => Promise.reject(new SecurityViolationError('signal for a match that is not theirs')), {
        operation: 'chat.signal',
        userId: 'mallory',
      }),
    );
    await settle(manager.executeWithRecovery(() => Promise.reject(new InvalidTokenError('forged')), { operation: 'session.resume', userId: 'eve' }));
    expect(calls).toEqual(['endSession mallory', 'endSession eve']);
    expect(errors.map((e) => e.outcome)).toEqual(['escalated', 'escalated']);
  });

  it('a system failure asks for a graceful shutdown, only once', async () => {
    const { manager, calls, recoveries } = setup();
    for (let i = 0; i < 3; i++)
      await settle(manager.executeWithRecovery(() => Promise.reject(new SystemFailureError('data dir is gone')), { operation: 'boot' }));
    expect(calls).toEqual(['shutdown SYSTEM_FAILURE: data dir is gone']);
    expect(recoveries.map((r) => r.outcome)).toEqual(['escalated', 'suppressed', 'suppressed']);
  });

  it('an inconsistent pair is rolled back to its checkpoint', async () => {
    const { manager, calls, errors } = setup();
    await settle(manager.executeWithRecovery(() => Promise.reject(pairInconsistent()), { operation: 'match.leave', subject: 'm-42', userId: 'u1' }));
    expect(calls).toEqual(['rollback m-42']);
    expect(errors).toEqual([expect.objectContaining({ strategy: 'rollback', outcome: 'recovered', recovered: true })]);
  });

  it('resource exhaustion behind SERVICE_UNAVAILABLE opens the breaker path and alerts', async () => {
    const { manager, calls, errors } = setup();
    const result = settle(
      manager.executeWithRecovery(() => Promise.reject(new StoreUnavailableError(oom())), { operation: 'match.enqueue', dependency: 'redis' }),
    );
    await vi.runAllTimersAsync();
    expect((await result).ok).toBe(false);
    expect(calls).toEqual(['flagOperator OOM']);
    expect(errors).toEqual([expect.objectContaining({ strategy: 'break_and_alert', outcome: 'escalated', code: 'OOM' })]);
  });

  it('an action that throws makes the outcome failed, is reported, and the caller still sees the original error', async () => {
    const { manager, errors, reported } = setup({
      actions: {
        rollbackToCheckpoint: () => {
          throw new Error('no checkpoint');
        },
      },
    });
    const e = pairInconsistent();
    await expect(manager.executeWithRecovery(() => Promise.reject(e), { operation: 'x', subject: 'm-1' })).rejects.toBe(e);
    expect(errors[0]).toMatchObject({ outcome: 'failed', recovered: false });
    expect(reported).toEqual(['action rollbackToCheckpoint: no checkpoint']);
  });

  it('throwing and rejecting hooks never reach the caller', async () => {
    const { manager, reported } = setup({ throwingHooks: true });
    let calls = 0;
    const result = settle(
      manager.executeWithRecovery(
        () => {
          if (++calls === 1) throw sysError('ECONNRESET');
          return 'ok';
        },
        { operation: 'x', dependency: 'redis' },
      ),
    );
    await vi.runAllTimersAsync();
    expect(await result).toEqual({ ok: true, value: 'ok' });
    const e = new NotInMatchError();
    await expect(manager.executeWithRecovery(() => Promise.reject(e), { operation: 'y' })).rejects.toBe(e);
    await vi.waitFor(() => expect(reported).toEqual(['onRecovery: async hook bug', 'onError: hook bug']));
  });

  it("runs under the pool's bulkhead: a saturated pool sheds load, other pools carry on", async () => {
    const { manager, errors } = setup(); // pool bulkhead: 1 at a time, no queue
    const stuck = deferred<string>();
    const hot = manager.executeWithRecovery(() => stuck.promise, { operation: 'match.enqueue', pool: 'en' });
    await expect(manager.executeWithRecovery(() => 'x', { operation: 'match.enqueue', pool: 'en' })).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(await manager.executeWithRecovery(() => 'fr ok', { operation: 'match.enqueue', pool: 'fr' })).toBe('fr ok');
    expect(errors).toEqual([expect.objectContaining({ strategy: 'retry_jitter', pool: 'en' })]);
    stuck.resolve('en ok');
    expect(await hot).toBe('en ok');
  });
});
