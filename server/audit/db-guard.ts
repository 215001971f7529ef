/**
 * DbGuard: how the audit pipeline runs a Postgres call. The composition root hands in the
 * Postgres policy (bulkhead, retry, breaker, timeout: server/resilience); tests and benches that
 * build a drain by hand get `direct`, which just runs the call.
 */
export type DbGuard = <T>(fn: () => Promise<T>) => Promise<T>;

export const direct: DbGuard = (fn) => fn();
