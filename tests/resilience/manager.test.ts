import { ReplyError } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorRecoveryManager, type RecoveryActions } from '../../server/resilience/manager';
import type { ErrorRecord, RecoveryRecord } from '../../server/resilience/model';
import { InvalidTokenError } from '../../server/session/token';
import { NotInMatchError, StoreUnavailableError } from '../../server/state/errors';
import { sysError, testConfig } from './support';

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
  const manager = new ErrorRecoveryManager({
    actions,
    config: cfg,
    clock: { now: () => Date.now() },
    hooks,
    report: (e, where) => reported.push(`${where}: ${(e as Error).message}`),
  });
  return { manager, errors, recoveries, calls, reported, cfg };
}

const coded = (code: string, message: string) => Object.assign(new Error(message), { code });
/** The code classify.ts maps to a rollback to the last checkpoint. */
const pairInconsistent = () => coded('PAIR_INCONSISTENT', 'pair m-42 is inconsistent');
const oom = () => new (ReplyError as new (m: string) => Error)("OOM command not allowed when used memory > 'maxmemory'.");

describe('ErrorRecoveryManager.recover', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a transient failure that outlasted its retries is recorded as an error and a failed recovery', async () => {
    const { manager, errors, recoveries, calls } = setup();
    expect(await manager.recover(sysError('ECONNREFUSED'), { operation: 'audit.write', dependency: 'postgres', userId: 'u1' })).toBe('failed');
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
    expect(recoveries).toEqual([expect.objectContaining({ strategy: 'reconnect', outcome: 'failed', failureType: 'postgres', operation: 'audit.write' })]);
    expect(calls).toEqual([]);
  });

  it("the caller's own mistake is recorded, with no recovery and no action", async () => {
    const { manager, errors, recoveries, calls } = setup();
    expect(await manager.recover(new NotInMatchError(), { operation: 'chat.send', dependency: 'redis' })).toBeNull();
    expect(errors).toEqual([expect.objectContaining({ type: 'validation', strategy: 'reject', outcome: null })]);
    expect(recoveries).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('data inconsistency pauses the pool and flags an operator, once per cooldown', async () => {
    const { manager, calls, cfg } = setup();
    const fail = () => manager.recover(coded('DATA_INCONSISTENT', 'user in two sets'), { operation: 'match.sweep', pool: 'en' });
    expect(await fail()).toBe('escalated');
    expect(await fail()).toBe('suppressed');
    expect(calls).toEqual(['pausePool en', 'flagOperator DATA_INCONSISTENT']);
    vi.advanceTimersByTime(cfg.escalationCooldownMs);
    await fail();
    expect(calls).toHaveLength(4);
  });

  it("a security violation ends the user's session", async () => {
    const { manager, calls, errors } = setup();
    await manager.recover(coded('SECURITY_VIOLATION', 'signal for a match that is not theirs'), { operation: 'chat.signal', userId: 'mallory' });
    await manager.recover(new InvalidTokenError('forged'), { operation: 'session.resume', userId: 'eve' });
    expect(calls).toEqual(['endSession mallory', 'endSession eve']);
    expect(errors.map((e) => e.outcome)).toEqual(['escalated', 'escalated']);
  });

  it('a system failure asks for a graceful shutdown, only once', async () => {
    const { manager, calls, recoveries } = setup();
    for (let i = 0; i < 3; i++) await manager.recover(coded('SYSTEM_FAILURE', 'data dir is gone'), { operation: 'boot' });
    expect(calls).toEqual(['shutdown SYSTEM_FAILURE: data dir is gone']);
    expect(recoveries.map((r) => r.outcome)).toEqual(['escalated', 'suppressed', 'suppressed']);
  });

  it('an inconsistent pair is rolled back to its checkpoint', async () => {
    const { manager, calls, errors } = setup();
    await manager.recover(pairInconsistent(), { operation: 'match.leave', subject: 'm-42', userId: 'u1' });
    expect(calls).toEqual(['rollback m-42']);
    expect(errors).toEqual([expect.objectContaining({ strategy: 'rollback', outcome: 'recovered', recovered: true })]);
  });

  it('resource exhaustion behind SERVICE_UNAVAILABLE opens the breaker path and alerts', async () => {
    const { manager, calls, errors } = setup();
    await manager.recover(new StoreUnavailableError(oom()), { operation: 'match.enqueue', dependency: 'redis' });
    expect(calls).toEqual(['flagOperator OOM']);
    expect(errors).toEqual([expect.objectContaining({ strategy: 'break_and_alert', outcome: 'escalated', code: 'OOM' })]);
  });

  it('an action that throws makes the outcome failed and is reported', async () => {
    const { manager, errors, reported } = setup({
      actions: {
        rollbackToCheckpoint: () => {
          throw new Error('no checkpoint');
        },
      },
    });
    expect(await manager.recover(pairInconsistent(), { operation: 'x', subject: 'm-1' })).toBe('failed');
    expect(errors[0]).toMatchObject({ outcome: 'failed', recovered: false });
    expect(reported).toEqual(['action rollbackToCheckpoint: no checkpoint']);
  });

  it('throwing and rejecting hooks never reach the caller', async () => {
    const { manager, reported } = setup({ throwingHooks: true });
    expect(await manager.recover(sysError('ECONNRESET'), { operation: 'x', dependency: 'redis' })).toBe('failed');
    await vi.waitFor(() => expect(reported).toEqual(['onError: hook bug', 'onRecovery: async hook bug']));
  });
});
