import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDependencyPolicy } from '../../server/resilience/dependency-policy';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createResilience } from '../../server/resilience';
import { NotInMatchError } from '../../server/state/errors';
import { deferred, settle, sysError, testConfig, testDependency } from './support';

describe('a dependency policy (bulkhead, retry, breaker, timeout)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries a transient failure and reports each retry with its delay', async () => {
    const retries: unknown[] = [];
    const policy = createDependencyPolicy('redis', testDependency(), { hooks: { onRetry: (...args) => void retries.push(args) } });
    let calls = 0;
    const err = sysError('ECONNRESET');
    const result = settle(
      policy.execute(() => {
        if (++calls === 1) throw err;
        return 'ok';
      }),
    );
    await vi.runAllTimersAsync();
    expect(await result).toEqual({ ok: true, value: 'ok' });
    expect(retries).toEqual([['redis', 1, 100, err]]);
  });

  it('a throwing retry listener does not break the call; the reporter hears about it', async () => {
    const reported: string[] = [];
    const policy = createDependencyPolicy('redis', testDependency(), {
      hooks: {
        onRetry() {
          throw new Error('listener bug');
        },
      },
      report: (e, hook) => reported.push(`${hook}: ${(e as Error).message}`),
    });
    let calls = 0;
    const result = settle(
      policy.execute(() => {
        if (++calls === 1) throw sysError('ECONNRESET');
        return 'ok';
      }),
    );
    await vi.runAllTimersAsync();
    expect(await result).toEqual({ ok: true, value: 'ok' });
    expect(reported).toEqual(['onRetry: listener bug']);
  });

  it('a throwing or rejecting breaker listener does not change what the caller sees', async () => {
    const reported: string[] = [];
    const policy = createDependencyPolicy('postgres', testDependency({ retry: { maxAttempts: 0 }, breaker: { failureThreshold: 1 } }), {
      hooks: {
        onBreakerState(_d, state) {
          if (state === 'open') throw new Error('sync listener bug');
          return Promise.reject(new Error('async listener bug'));
        },
      },
      report: (e) => reported.push((e as Error).message),
    });
    const refused = sysError('ECONNREFUSED');
    expect(await settle(policy.execute(() => Promise.reject(refused)))).toEqual({ ok: false, error: refused });
    expect(policy.state()).toBe('open');
    await expect(policy.execute(() => 'x')).rejects.toBeInstanceOf(BrokenCircuitError);
    vi.advanceTimersByTime(5000);
    expect(await policy.execute(() => 'probe')).toBe('probe');
    await vi.waitFor(() => expect(reported).toEqual(['sync listener bug', 'async listener bug', 'async listener bug']));
  });

  it('a hanging call fails with TaskCancelledError after its retries', async () => {
    const policy = createDependencyPolicy('redis', testDependency({ timeoutMs: 200 }));
    const started = Date.now();
    const result = settle(policy.execute(() => new Promise<string>(() => {})));
    await vi.runAllTimersAsync();
    const r = await result;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBeInstanceOf(TaskCancelledError);
    expect(Date.now() - started).toBe(3 * 200 + 2 * 100);
  });

  it('timeoutMs 0 means no policy timeout: a slow call is left to the client’s own timeout', async () => {
    const policy = createDependencyPolicy('redis', testDependency({ timeoutMs: 0 }));
    const result = settle(policy.execute(() => new Promise<string>((ok) => setTimeout(() => ok('slow but fine'), 60_000))));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await result).toEqual({ ok: true, value: 'slow but fine' });
  });

  it('once the breaker opens, the remaining retries stop at once', async () => {
    const policy = createDependencyPolicy('redis', testDependency({ retry: { maxAttempts: 5 }, breaker: { failureThreshold: 2 } }));
    let calls = 0;
    const result = settle(
      policy.execute(() => {
        calls++;
        throw sysError('ECONNREFUSED');
      }),
    );
    await vi.runAllTimersAsync();
    const r = await result;
    expect(calls).toBe(2);
    expect(!r.ok && r.error).toBeInstanceOf(BrokenCircuitError);
  });

  it("the caller's own mistakes are neither retried nor counted by the breaker", async () => {
    const policy = createDependencyPolicy('redis', testDependency({ breaker: { failureThreshold: 2 } }));
    let calls = 0;
    for (let i = 0; i < 5; i++) {
      const r = await settle(
        policy.execute(() => {
          calls++;
          throw new NotInMatchError();
        }),
      );
      expect(!r.ok && r.error).toBeInstanceOf(NotInMatchError);
    }
    expect(calls).toBe(5);
    expect(policy.state()).toBe('closed');
  });

  it('refused credentials count against the dependency (a LiveKit that rejects our key is down)', async () => {
    const policy = createDependencyPolicy('livekit', testDependency({ breaker: { failureThreshold: 2 } }));
    const unauthorized = Object.assign(new Error('invalid token'), { status: 401, code: 'unauthenticated' });
    for (let i = 0; i < 2; i++) await settle(policy.execute(() => Promise.reject(unauthorized)));
    expect(policy.state()).toBe('open');
    expect(policy.isOpen()).toBe(true);
    vi.advanceTimersByTime(5000);
    expect(policy.isOpen()).toBe(false); // the next call may probe
  });

  it('executeOnce makes one attempt, and its failures count toward the same breaker as execute', async () => {
    const states: string[] = [];
    const policy = createDependencyPolicy('redis', testDependency({ breaker: { failureThreshold: 3 } }), {
      hooks: { onBreakerState: (_d, s) => void states.push(s) },
    });
    let calls = 0;
    const timedOut = () => {
      calls++;
      return Promise.reject(new Error('Command timed out'));
    };
    for (let i = 0; i < 3; i++) expect((await settle(policy.executeOnce(timedOut))).ok).toBe(false);
    expect(calls).toBe(3); // no retries
    expect(states).toEqual(['open']);
    // Open for reads and scripts alike, and refused at once.
    await expect(policy.executeOnce(timedOut)).rejects.toBeInstanceOf(BrokenCircuitError);
    await expect(policy.execute(() => 'script')).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(calls).toBe(3);
    // A read is as good a probe as any: once it succeeds, the breaker closes for everyone.
    vi.advanceTimersByTime(5000);
    expect(await policy.executeOnce(() => 'read')).toBe('read');
    expect(policy.state()).toBe('closed');
    expect(await policy.execute(() => 'script')).toBe('script');
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('failures of execute open the breaker for executeOnce too', async () => {
    const policy = createDependencyPolicy('postgres', testDependency({ retry: { maxAttempts: 0 }, breaker: { failureThreshold: 2 } }));
    for (let i = 0; i < 2; i++) await settle(policy.execute(() => Promise.reject(sysError('ECONNREFUSED'))));
    await expect(policy.executeOnce(() => 'x')).rejects.toBeInstanceOf(BrokenCircuitError);
  });

  it("the dependency's bulkhead refuses work beyond its limit, and a refusal never opens the breaker", async () => {
    const policy = createDependencyPolicy('postgres', testDependency({ bulkhead: { limit: 1, queue: 0 }, breaker: { failureThreshold: 1 } }));
    const stuck = deferred<string>();
    const hot = policy.execute(() => stuck.promise);
    for (let i = 0; i < 3; i++) await expect(policy.execute(() => 'x')).rejects.toBeInstanceOf(BulkheadRejectedError);
    expect(policy.state()).toBe('closed');
    stuck.resolve('done');
    expect(await hot).toBe('done');
  });
});

describe('the set of policies', () => {
  it('has one independent named policy per dependency', async () => {
    const states: string[] = [];
    const cfg = testConfig();
    cfg.redis.breaker.failureThreshold = 1;
    cfg.redis.retry.maxAttempts = 0;
    const { policies, health } = createResilience({
      config: cfg,
      registry: new Registry(),
      clock: { now: () => Date.now() },
      log: pino({ level: 'silent' }),
      actions: { pausePool() {}, flagOperator() {}, endSession() {}, shutdown() {}, rollbackToCheckpoint() {} },
      audit: { onBreakerState: (d, s) => void states.push(`${d}:${s}`) },
    });
    await settle(policies.redis.execute(() => Promise.reject(sysError('ECONNREFUSED'))));
    expect(policies.redis.state()).toBe('open');
    expect(await policies.postgres.execute(() => 'postgres unaffected')).toBe('postgres unaffected');
    expect(states).toEqual(['redis:open']);
    expect((await health()).bulkheads.dependencies).toMatchObject({ redis: { state: 'open' }, postgres: { state: 'closed' } });
  });
});

describe('an open breaker and a dependency that is back', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const broken = () => testDependency({ retry: { maxAttempts: 0 }, breaker: { failureThreshold: 1, resetTimeout: 5000 } });
  const down = sysError('ECONNREFUSED');

  it('is asked directly every probe interval while open, and its first answer lets the next call through long before the reset timeout', async () => {
    let up = false;
    let checks = 0;
    const check = () => {
      checks++;
      return up ? Promise.resolve('PONG') : Promise.reject(down);
    };
    const policy = createDependencyPolicy('redis', broken(), { probe: { check, intervalMs: 250 } });
    expect(await settle(policy.execute(() => Promise.reject(down)))).toEqual({ ok: false, error: down });
    expect(policy.state()).toBe('open');

    await vi.advanceTimersByTimeAsync(1000);
    expect(checks).toBe(4);
    expect(policy.isOpen()).toBe(true);
    expect(await settle(policy.execute(() => 'too soon'))).toMatchObject({ ok: false, error: expect.any(BrokenCircuitError) as unknown });

    up = true;
    await vi.advanceTimersByTimeAsync(250);
    expect(policy.isOpen()).toBe(false);
    expect(await settle(policy.execute(() => 'back'))).toEqual({ ok: true, value: 'back' });
    expect(policy.state()).toBe('closed');
    await vi.advanceTimersByTimeAsync(5000);
    expect(checks).toBe(5); // no checks while closed
    policy.stop();
  });

  it("the client's own word (markBack) ends the open period at once; without it, or a check, the reset timeout still applies", async () => {
    const told = createDependencyPolicy('redis', broken());
    const untold = createDependencyPolicy('redis', broken());
    for (const p of [told, untold]) await settle(p.execute(() => Promise.reject(down)));
    await vi.advanceTimersByTimeAsync(100);
    told.markBack();

    expect(await settle(told.execute(() => 'probe'))).toEqual({ ok: true, value: 'probe' });
    expect(await settle(untold.execute(() => 'probe'))).toMatchObject({ ok: false, error: expect.any(BrokenCircuitError) as unknown });
    await vi.advanceTimersByTimeAsync(5000);
    expect(await settle(untold.execute(() => 'probe'))).toEqual({ ok: true, value: 'probe' });
  });

  it('a breaker opened by refusals (Redis out of memory) is not probed: PING would answer while every call still fails', async () => {
    let checks = 0;
    const policy = createDependencyPolicy('redis', broken(), { probe: { check: async () => void checks++, intervalMs: 250 } });
    const oom = Object.assign(new Error('OOM command not allowed when used memory > maxmemory'), { name: 'ReplyError' });
    await settle(policy.execute(() => Promise.reject(oom)));
    expect(policy.state()).toBe('open');
    await vi.advanceTimersByTimeAsync(2000);
    expect(checks).toBe(0);
    expect(policy.isOpen()).toBe(true);
    policy.stop();
  });

  it('a failed probe after the dependency said it was back opens the breaker for a new period, with checks again', async () => {
    let checks = 0;
    const policy = createDependencyPolicy('postgres', broken(), {
      probe: { check: () => (++checks === 1 ? Promise.resolve() : Promise.reject(down)), intervalMs: 250 },
    });
    await settle(policy.execute(() => Promise.reject(down)));
    await vi.advanceTimersByTimeAsync(250);
    expect(await settle(policy.execute(() => Promise.reject(down)))).toEqual({ ok: false, error: down });
    expect(policy.isOpen()).toBe(true);
    await vi.advanceTimersByTimeAsync(750);
    expect(checks).toBe(4);
    policy.stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(checks).toBe(4);
  });
});
