/**
 * The soak's load from the shared whole-call driver (bench/flow/full-call.ts): a closed-loop
 * population of `people`, each going through enqueue -> matched -> offer/answer/ICE -> joined ->
 * IN_CALL -> chat and typing -> skip or end, and again; with absent people (sockets closed while
 * waiting or in a call, most coming back with a resumed subscription). The call rate is what that
 * population makes: steady for a fixed population, and it shows in the curve.
 */
import { createFullCallDriver, type FlowCounters, type FullCallOptions } from '../flow/full-call';
import type { LoadStats, SoakLoad } from './load';

export type FullCallLoadOptions = Pick<FullCallOptions, 'urls' | 'secret' | 'people' | 'skip' | 'absent' | 'graceMs'>;

export class LoadConnectError extends Error {
  readonly code = 'SOAK_LOAD_CONNECT';
}

/** The driver's counters as the soak reports them. */
export function loadStats(c: FlowCounters, online: number): LoadStats {
  return {
    calls: c.calls,
    errors: c.errors,
    online,
    detail: {
      skips: c.skips,
      ends: c.ends,
      enqueues: c.enqueues,
      matchedEvents: c.matchedEvents,
      abandoned: c.abandoned,
      ghostMatches: c.ghostMatches,
      dropsWaiting: c.dropsWaiting,
      dropsInCall: c.dropsInCall,
      reconnects: c.reconnects,
      gone: c.gone,
      absenceRaces: c.absenceRaces,
      aborted: c.aborted,
      lastError: c.lastError,
    },
  };
}

export function fullCallLoad(o: FullCallLoadOptions): SoakLoad {
  const driver = createFullCallDriver({ urls: o.urls, secret: o.secret, people: o.people, skip: o.skip, absent: o.absent, graceMs: o.graceMs });
  let final: LoadStats | null = null;
  return {
    async start() {
      const { connected, failed } = await driver.connect();
      if (connected === 0) throw new LoadConnectError(`none of ${o.people} people could connect`);
      if (failed > 0) process.stderr.write(`soak: ${failed} of ${o.people} people could not connect\n`);
      driver.start();
    },
    async stop() {
      const s = await driver.stop();
      final = loadStats(s.counters, 0);
    },
    stats() {
      if (final) return final;
      const s = driver.snapshot();
      return loadStats(s.counters, o.people - s.absentNow);
    },
  };
}
