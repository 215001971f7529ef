/**
 * Postgres failures, under load: the cluster stopped (fast shutdown, data kept) for 30 s at full
 * length, and Postgres slow (250 ms added each way by the proxy, so a round trip costs 500 ms
 * more). Matching never touches Postgres, so users must not notice at all; the audit trail waits
 * in the Redis outbox and must arrive complete and once when Postgres answers again, and none of
 * it may be dead-lettered for the outage (the drain's writes run under the Postgres policy, whose
 * refusals are transient).
 */
import type { Inspector } from '../lib/inspector';
import { runChaos, type FaultContext } from '../lib/run';
import { startInProcess } from '../lib/systems';
import type { ScenarioOptions, ScenarioResult } from '../lib/types';
import { breakerWindows, scaled } from './scale';

const FULL_DOWN_MS = 30_000;
const FULL_SLOW_MS = 30_000;
const FLOOR_MS = 2000;
const SLOW_MS_EACH_WAY = 250;

export async function postgresDown(o: ScenarioOptions): Promise<ScenarioResult> {
  const outageMs = scaled(FULL_DOWN_MS, o.durationScale, FLOOR_MS);
  await using sys = await startInProcess({ privatePostgres: true, env: breakerWindows(outageMs) });
  const pg = sys.deps.postgres!;
  return await runChaos(
    sys,
    {
      failure: 'Postgres stopped',
      trips: ['postgres'],
      outageMs,
      async inject(ctx) {
        await pg.stop();
        ctx.stats.outboxAtStop = await sys.inspector.backlog();
      },
      async heal(ctx) {
        ctx.stats.outboxAtReturn = await sys.inspector.backlog();
        await pg.start();
      },
      finish: (ctx) => countDeadLetters(sys.inspector, ctx),
    },
    o,
  );
}

export async function postgresSlow(o: ScenarioOptions): Promise<ScenarioResult> {
  const outageMs = scaled(FULL_SLOW_MS, o.durationScale, FLOOR_MS);
  await using sys = await startInProcess({ privatePostgres: true, env: breakerWindows(outageMs) });
  return await runChaos(
    sys,
    {
      failure: `Postgres slow (+${2 * SLOW_MS_EACH_WAY} ms RTT)`,
      trips: [],
      outageMs,
      async inject() {
        sys.deps.pgProxy.setMode('latency', SLOW_MS_EACH_WAY);
      },
      async heal(ctx) {
        ctx.stats.outboxAtReturn = await sys.inspector.backlog();
        sys.deps.pgProxy.setMode('pass');
      },
      finish: (ctx) => countDeadLetters(sys.inspector, ctx),
    },
    o,
  );
}

/** Audit records dead-lettered (an outage or a slow database must never put any there). */
async function countDeadLetters(inspector: Inspector, ctx: FaultContext): Promise<void> {
  ctx.stats.deadLetters = (await inspector.query<{ n: number }>('select count(*)::int as n from dead_letters'))[0]!.n;
  if (ctx.stats.deadLetters) ctx.notes.push(`${ctx.stats.deadLetters} audit records dead-lettered`);
}
