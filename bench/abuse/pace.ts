/**
 * Rate control and outcome counting for the attackers.
 *
 * `pace` is an open loop like bench/lib/load.ts `openLoop` (operation i is due at t0 + i / rate,
 * whatever happened before), with two differences an attacker needs: it runs until its signal
 * aborts rather than for a fixed count, and it caps the operations in flight. Without the cap a
 * server that stops answering would make the attacker pile up sockets and memory until it fell
 * over itself; beyond the cap an operation is not started and counts as `shed` (offered, not sent).
 *
 * Outcomes are short words: `ok` (answered 1xx-3xx, or a socket or subscription opened), `4xx`,
 * `5xx`, `connError` (refused, reset or closed without an answer), `timeout`, plus a few an
 * attack adds (`aborted`, `shed`, `noPair`, `noSession`, `closedByServer`).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { TRPCClientError } from '@trpc/client';

/** Every request of an attacker gives up after this long: a stalled server must not stall the bench. */
export const REQUEST_TIMEOUT_MS = 5000;

export class Tally {
  readonly counts: Record<string, number> = {};
  /** The same outcomes by request kind ("GET /% 4xx"), for the report's detail table. */
  readonly detail: Record<string, number> = {};

  add(outcome: string, kind?: string): void {
    this.counts[outcome] = (this.counts[outcome] ?? 0) + 1;
    if (kind) this.detail[`${kind}: ${outcome}`] = (this.detail[`${kind}: ${outcome}`] ?? 0) + 1;
  }
}

export function statusOutcome(status: number): string {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  return status > 0 ? 'ok' : 'connError';
}

/** A tRPC client error carries the HTTP status of its shape; anything without one never got an answer. */
export function errorOutcome(e: unknown): string {
  if (e instanceof TimeoutError) return 'timeout';
  if (e instanceof TRPCClientError) {
    const status = (e.data as { httpStatus?: number } | undefined)?.httpStatus;
    if (typeof status === 'number') return statusOutcome(status);
  }
  return 'connError';
}

/** The stable code of a refused tRPC call (`data.appCode`, e.g. TOO_MANY_SIGNALS), if any. */
export function appCode(e: unknown): string | undefined {
  return e instanceof TRPCClientError ? (e.data as { appCode?: string } | undefined)?.appCode : undefined;
}

export class TimeoutError extends Error {
  readonly code = 'BENCH_TIMEOUT';
}

/** `p`, or a TimeoutError after `ms` (the operation itself is left to finish or fail on its own). */
export function withTimeout<T>(p: Promise<T>, ms = REQUEST_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface PaceOptions {
  rate: number;
  maxInflight: number;
  signal: AbortSignal;
  tally: Tally;
  /** One operation; a returned word is counted, a throw is classified by errorOutcome. */
  op: (i: number) => Promise<string | void>;
}

/** Runs `op` at `rate` per second until `signal` aborts, then waits for those in flight. */
export async function pace(o: PaceOptions): Promise<void> {
  const interval = 1000 / o.rate;
  const t0 = performance.now();
  const inflight = new Set<Promise<void>>();
  let started = 0;
  while (!o.signal.aborted) {
    const due = Math.floor((performance.now() - t0) / interval) + 1;
    for (; started < due; started++) {
      o.tally.add('sent');
      if (inflight.size >= o.maxInflight) {
        o.tally.add('shed');
        continue;
      }
      const p: Promise<void> = o
        .op(started)
        .then(
          (r) => {
            if (r) o.tally.add(r);
          },
          (e: unknown) => o.tally.add(errorOutcome(e)),
        )
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await sleep(Math.max(1, t0 + started * interval - performance.now()));
  }
  // Every operation has its own timeout; this one only guards against an operation that has none.
  await Promise.race([Promise.allSettled(inflight), sleep(2 * REQUEST_TIMEOUT_MS)]);
}
