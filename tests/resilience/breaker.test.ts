import { BrokenCircuitError, CircuitState, SamplingBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { breakerStateName, createBreaker } from '../../server/resilience/breaker';
import type { CircuitBreakerConfig } from '../../server/resilience/config';
import { HalfOpenGate } from '../../server/resilience/half-open-gate';
import { deferred, settle, sysError } from './support';

const cfg = (over: Partial<CircuitBreakerConfig> = {}): CircuitBreakerConfig => ({
  failureThreshold: 3,
  failureRate: 0.5,
  monitoringPeriod: 0,
  resetTimeout: 1000,
  halfOpenLimit: 1,
  ...over,
});

const fail = () => {
  throw sysError('ECONNREFUSED');
};
const everything = () => true;

describe('circuit breaker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens after failureThreshold consecutive failures and then fails fast without calling', async () => {
    const breaker = createBreaker(cfg(), everything);
    for (let i = 0; i < 2; i++) await settle(breaker.execute(fail));
    expect(breaker.state).toBe(CircuitState.Closed);
    await settle(breaker.execute(fail));
    expect(breaker.state).toBe(CircuitState.Open);

    const fn = vi.fn(() => 'never');
    await expect(breaker.execute(fn)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(fn).not.toHaveBeenCalled();
  });

  it('a success in between resets the consecutive count', async () => {
    const breaker = createBreaker(cfg(), everything);
    await settle(breaker.execute(fail));
    await settle(breaker.execute(fail));
    await breaker.execute(() => 'ok');
    await settle(breaker.execute(fail));
    await settle(breaker.execute(fail));
    expect(breaker.state).toBe(CircuitState.Closed);
  });

  it('half-opens after resetTimeout: a successful probe closes it, a failed one opens it again', async () => {
    const breaker = createBreaker(cfg(), everything);
    const states: string[] = [];
    breaker.onStateChange((s) => states.push(breakerStateName(s)));
    for (let i = 0; i < 3; i++) await settle(breaker.execute(fail));

    vi.advanceTimersByTime(999);
    await expect(breaker.execute(() => 'early')).rejects.toBeInstanceOf(BrokenCircuitError);
    vi.advanceTimersByTime(1);
    await settle(breaker.execute(fail)); // the probe fails
    expect(breaker.state).toBe(CircuitState.Open);

    vi.advanceTimersByTime(1000);
    expect(await breaker.execute(() => 'probe ok')).toBe('probe ok');
    expect(breaker.state).toBe(CircuitState.Closed);
    expect(states).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });

  it('errors it is not told to count do not open it', async () => {
    const breaker = createBreaker(cfg(), (e) => (e as { code?: string }).code === 'ECONNREFUSED');
    for (let i = 0; i < 10; i++) {
      await settle(
        breaker.execute(() => {
          throw Object.assign(new Error('not in a match'), { code: 'NOT_IN_MATCH' });
        }),
      );
    }
    expect(breaker.state).toBe(CircuitState.Closed);
  });

  it('with a monitoring period it opens on the failure rate, once failureThreshold calls were seen', async () => {
    const breaker = createBreaker(cfg({ failureThreshold: 10, monitoringPeriod: 10_000, failureRate: 0.5 }), everything);
    for (let i = 0; i < 9; i++) await settle(breaker.execute(fail));
    expect(breaker.state).toBe(CircuitState.Closed); // nine calls: too few to judge
    await settle(breaker.execute(fail));
    expect(breaker.state).toBe(CircuitState.Open);
  });

  it('with a monitoring period a failure rate under the threshold keeps it closed', async () => {
    const breaker = createBreaker(cfg({ failureThreshold: 10, monitoringPeriod: 10_000, failureRate: 0.5 }), everything);
    for (let i = 0; i < 20; i++) await settle(i % 3 === 0 ? breaker.execute(fail) : breaker.execute(() => 'ok'));
    expect(breaker.state).toBe(CircuitState.Closed);
  });

  it('with a monitoring period, failures from before a quiet spell longer than the period no longer count', async () => {
    const breaker = createBreaker(cfg({ failureThreshold: 10, monitoringPeriod: 10_000, failureRate: 0.5 }), everything);
    for (let i = 0; i < 9; i++) await settle(breaker.execute(fail));
    vi.advanceTimersByTime(11_000);
    for (let i = 0; i < 9; i++) await settle(breaker.execute(() => 'ok'));
    await settle(breaker.execute(fail));
    expect(breaker.state).toBe(CircuitState.Closed);
  });

  it('with a monitoring period, the successes from before an outage leave the sample on time, however sparse the failures after them', async () => {
    const breaker = createBreaker(cfg({ failureThreshold: 10, monitoringPeriod: 10_000, failureRate: 0.5 }), everything);
    for (let i = 0; i < 200; i++) await breaker.execute(() => 'ok');
    // The outage: a burst of failures every 2 s (ioredis failing its queue on a reconnect attempt).
    let openedAfterMs = -1;
    for (let t = 2000; t <= 14_000 && openedAfterMs < 0; t += 2000) {
      vi.advanceTimersByTime(2000);
      for (let i = 0; i < 3; i++) await settle(breaker.execute(fail));
      if (breaker.state === CircuitState.Open) openedAfterMs = t;
    }
    // Open once the 200 successes are more than a period old, not several periods later.
    expect(openedAfterMs).toBe(10_000);
  });
});

describe('cockatiel 3.2.1 SamplingBreaker on its own (why breaker.ts has its own)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('still counts failures from before a quiet spell longer than its window', async () => {
    const raw = circuitBreaker(handleAll, { halfOpenAfter: 1000, breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: 1 }) });
    for (let i = 0; i < 9; i++) await settle(raw.execute(fail));
    vi.advanceTimersByTime(11_000);
    for (let i = 0; i < 9; i++) await settle(raw.execute(() => 'ok'));
    await settle(raw.execute(fail));
    expect(raw.state).toBe(CircuitState.Open); // 10 failures of 19 "in the last 10 s", though 9 are 11 s old
  });

  it('keeps the successes from before an outage in its sample for several windows when failures come in bursts', async () => {
    const raw = circuitBreaker(handleAll, { halfOpenAfter: 1000, breaker: new SamplingBreaker({ threshold: 0.5, duration: 10_000, minimumRps: 1 }) });
    for (let i = 0; i < 200; i++) await raw.execute(() => 'ok');
    let openedAfterMs = -1;
    for (let t = 2000; t <= 40_000 && openedAfterMs < 0; t += 2000) {
      vi.advanceTimersByTime(2000);
      for (let i = 0; i < 3; i++) await settle(raw.execute(fail));
      if (raw.state === CircuitState.Open) openedAfterMs = t;
    }
    expect(openedAfterMs).toBeGreaterThanOrEqual(20_000); // one window slot per burst: twice its 10 s window
  });
});

describe('half-open limit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function openGate(limit: number) {
    const breaker = createBreaker(cfg({ halfOpenLimit: limit }), everything);
    const gate = new HalfOpenGate(breaker, limit);
    for (let i = 0; i < 3; i++) await settle(gate.execute(fail));
    vi.advanceTimersByTime(1000);
    return { breaker, gate };
  }

  it('with limit 1, callers arriving during the probe are refused at once', async () => {
    const { breaker, gate } = await openGate(1);
    const probe = deferred<string>();
    const probing = gate.execute(() => probe.promise);
    expect(breaker.state).toBe(CircuitState.HalfOpen);
    const other = vi.fn(() => 'other');
    await expect(gate.execute(other)).rejects.toBeInstanceOf(BrokenCircuitError);
    probe.resolve('probe');
    expect(await probing).toBe('probe');
    expect(other).not.toHaveBeenCalled();
    expect(await gate.execute(other)).toBe('other'); // closed again: calls pass
  });

  it('with limit 3, two callers wait for the probe and run after it succeeds; the fourth is refused', async () => {
    const { gate } = await openGate(3);
    const probe = deferred<string>();
    const probing = gate.execute(() => probe.promise);
    const waiting = [gate.execute(() => 'a'), gate.execute(() => 'b')];
    await expect(gate.execute(() => 'c')).rejects.toBeInstanceOf(BrokenCircuitError);
    probe.resolve('probe');
    expect(await Promise.all([probing, ...waiting])).toEqual(['probe', 'a', 'b']);
  });
});
