/**
 * RED metrics of the tRPC procedures: the rate, the errors and the duration of every call, by
 * procedure. Measured by the outermost middleware of every base procedure (server/trpc/trpc.ts),
 * so a call refused at the edge (unauthenticated, malformed, rate limited) is counted with its code
 * like any other, and a domain error with the code its person-facing TRPCError carries.
 *
 *   trpc_requests_total{procedure,type,code}          code: OK or the tRPC error code
 *   trpc_request_duration_seconds{procedure,type}     for a subscription, the time to start it
 *
 * Bounded labels: `procedure` is the path of a procedure that exists (tRPC answers an unknown path
 * NOT_FOUND before any middleware runs, so it never reaches `measure`), `type` is one of three and
 * `code` one of tRPC's fixed error codes.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, type Registry } from 'prom-client';

/** The result tRPC's `next()` gives a middleware (the fields read here). */
export interface CallResult {
  ok: boolean;
  error?: { code: string };
}

export interface ProcedureMetrics {
  /** Runs `next` (the rest of the middleware chain) and records its outcome and duration. */
  measure<R extends CallResult>(path: string, type: string, next: () => Promise<R>): Promise<R>;
}

export function createProcedureMetrics(registry: Registry): ProcedureMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'trpc_requests_total',
    help: 'tRPC calls by procedure, type (query, mutation, subscription) and outcome code (OK, or the tRPC error code)',
    labelNames: ['procedure', 'type', 'code'],
    registers,
  });
  const duration = new Histogram({
    name: 'trpc_request_duration_seconds',
    help: 'How long each tRPC call took on the server, by procedure and type (a subscription: until it started)',
    labelNames: ['procedure', 'type'],
    // Most calls are one Redis script (about a millisecond); the tail reaches the Postgres and
    // LiveKit calls and the policies' timeouts (seconds).
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  return {
    async measure(path, type, next) {
      const start = performance.now();
      const res = await next();
      const labels = { procedure: path, type };
      duration.observe(labels, (performance.now() - start) / 1000);
      requests.inc({ ...labels, code: res.ok ? 'OK' : (res.error?.code ?? 'INTERNAL_SERVER_ERROR') });
      return res;
    },
  };
}
