import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handleWhen, retry } from 'cockatiel';
import { backoffFor, delayFor } from '../../server/resilience/backoff';
import type { RetryPolicyConfig } from '../../server/resilience/config';
import { settle, sysError } from './support';

/** A RetryPolicyConfig on cockatiel's retry, as the dependency policy builds it. */
const createRetry = (cfg: RetryPolicyConfig, shouldRetry: (e: Error) => boolean, random?: () => number) =>
  retry(handleWhen(shouldRetry), { maxAttempts: cfg.maxAttempts, backoff: backoffFor(cfg, random) });

const policy = (over: Partial<RetryPolicyConfig> = {}): RetryPolicyConfig => ({
  maxAttempts: 3,
  backoffStrategy: 'exponential',
  initialDelay: 100,
  maxDelay: 10_000,
  jitter: false,
  ...over,
});

/** Runs a call that always fails under `cfg`, returning the calls' times (ms from start) and the delays reported. */
async function failingRun(cfg: RetryPolicyConfig, random?: () => number) {
  const retry = createRetry(cfg, () => true, random);
  const delays: number[] = [];
  retry.onRetry((r) => delays.push(r.delay));
  const start = Date.now();
  const callTimes: number[] = [];
  const result = settle(
    retry.execute(() => {
      callTimes.push(Date.now() - start);
      throw sysError('ECONNRESET');
    }),
  );
  await vi.runAllTimersAsync();
  return { result: await result, callTimes, delays };
}

describe('retry policy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('maxAttempts 3 means four calls, then the last error', async () => {
    const { result, callTimes } = await failingRun(policy());
    expect(callTimes).toHaveLength(4);
    expect(result).toMatchObject({ ok: false, error: { code: 'ECONNRESET' } });
  });

  it('exponential backoff without jitter doubles the delay from initialDelay', async () => {
    const { callTimes, delays } = await failingRun(policy());
    expect(delays).toEqual([100, 200, 400]);
    expect(callTimes).toEqual([0, 100, 300, 700]);
  });

  it('exponential backoff is capped at maxDelay', async () => {
    const { delays } = await failingRun(policy({ maxAttempts: 5, maxDelay: 300 }));
    expect(delays).toEqual([100, 200, 300, 300, 300]);
  });

  it('exponential backoff with jitter stays within maxDelay and is not the plain doubling', async () => {
    const { delays } = await failingRun(policy({ maxAttempts: 6, maxDelay: 1000, jitter: true }));
    expect(delays).toHaveLength(6);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of delays) expect(d).toBeLessThanOrEqual(1000);
    expect(delays).not.toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('linear backoff adds initialDelay per attempt, up to maxDelay', async () => {
    const { delays } = await failingRun(policy({ backoffStrategy: 'linear', maxAttempts: 4, maxDelay: 250 }));
    expect(delays).toEqual([100, 200, 250, 250]);
  });

  it('fixed backoff waits the same each time', async () => {
    const { delays } = await failingRun(policy({ backoffStrategy: 'fixed', initialDelay: 50 }));
    expect(delays).toEqual([50, 50, 50]);
  });

  it('jitter on linear and fixed keeps at least half the delay, so a retry never comes at once', async () => {
    const low = await failingRun(policy({ backoffStrategy: 'fixed', jitter: true }), () => 0);
    const high = await failingRun(policy({ backoffStrategy: 'linear', jitter: true }), () => 0.999);
    expect(low.delays).toEqual([50, 50, 50]);
    expect(high.delays).toEqual([99, 199, 299]);
  });

  it('a call that succeeds on a retry returns its value', async () => {
    const retry = createRetry(policy(), () => true);
    let calls = 0;
    const result = settle(
      retry.execute(() => {
        if (++calls < 3) throw sysError('ECONNRESET');
        return 'ok';
      }),
    );
    await vi.runAllTimersAsync();
    expect(await result).toEqual({ ok: true, value: 'ok' });
    expect(calls).toBe(3);
  });

  it('an error the filter refuses is not retried', async () => {
    const retry = createRetry(policy(), (e) => (e as { code?: string }).code === 'ECONNRESET');
    let calls = 0;
    const result = await settle(
      retry.execute(() => {
        calls++;
        throw Object.assign(new Error('no'), { code: 'NOT_IN_MATCH' });
      }),
    );
    expect(result.ok).toBe(false);
    expect(calls).toBe(1);
  });

  it('maxAttempts 0 means one call and no retry', async () => {
    const { callTimes } = await failingRun(policy({ maxAttempts: 0 }));
    expect(callTimes).toEqual([0]);
  });
});

describe('delayFor, the same schedule as a pure function', () => {
  it('follows the strategy and the cap', () => {
    const exp = policy({ maxDelay: 1000 });
    expect([1, 2, 3, 4, 5].map((n) => delayFor(exp, n))).toEqual([100, 200, 400, 800, 1000]);
    expect([1, 2, 3].map((n) => delayFor({ ...exp, backoffStrategy: 'linear' }, n))).toEqual([100, 200, 300]);
    expect([1, 2, 3].map((n) => delayFor({ ...exp, backoffStrategy: 'fixed' }, n))).toEqual([100, 100, 100]);
  });

  it('does not overflow for very late attempts', () => {
    expect(delayFor(policy({ maxDelay: 5000 }), 10_000)).toBe(5000);
  });

  it('with jitter, lies between half the delay and the delay', () => {
    const p = policy({ jitter: true });
    expect(delayFor(p, 3, () => 0)).toBe(200);
    expect(delayFor(p, 3, () => 0.5)).toBe(300);
    expect(delayFor(p, 3, () => 0.9999)).toBe(399);
  });
});
