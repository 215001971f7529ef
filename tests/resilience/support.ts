/** Small helpers for the resilience tests: deferreds, errors shaped like the real ones, configs. */
import { DEFAULT_RESILIENCE_CONFIG, type DependencyConfig, type ResilienceConfig } from '../../server/resilience/config';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, no) => {
    resolve = ok;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** A node socket error, as node builds it. */
export function sysError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code, errno: -1, syscall: 'connect' });
}

/** A dependency config with small, deterministic numbers (no jitter, consecutive breaker). */
export function testDependency(
  over: {
    timeoutMs?: number;
    retry?: Partial<DependencyConfig['retry']>;
    breaker?: Partial<DependencyConfig['breaker']>;
    bulkhead?: Partial<DependencyConfig['bulkhead']>;
  } = {},
): DependencyConfig {
  return {
    timeoutMs: over.timeoutMs ?? 1000,
    retry: { maxAttempts: 2, backoffStrategy: 'fixed', initialDelay: 100, maxDelay: 100, jitter: false, ...over.retry },
    breaker: { failureThreshold: 3, failureRate: 0.5, monitoringPeriod: 0, resetTimeout: 5000, halfOpenLimit: 1, ...over.breaker },
    bulkhead: { limit: 10, queue: 10, ...over.bulkhead },
  };
}

export function testConfig(): ResilienceConfig {
  return { ...DEFAULT_RESILIENCE_CONFIG, redis: testDependency(), postgres: testDependency(), pool: { limit: 1, queue: 0 }, escalationCooldownMs: 60_000 };
}

/** Settles a promise into a value or the error, so fake-timer tests can await it after advancing. */
export function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}
