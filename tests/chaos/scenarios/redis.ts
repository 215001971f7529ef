/**
 * Redis failures, under load: killed (SIGKILL) and restarted empty, killed and restarted with its
 * AOF, and frozen (SIGSTOP) then thawed.
 *
 * Guarantees checked:
 *  - with AOF (appendfsync everysec, the Redis default: a SIGKILL does not lose what was written
 *    to the file, only an OS crash would lose up to a second), nothing committed is lost and
 *    nothing is written twice: commands in flight are resent once by ioredis and the op ids make
 *    the resend harmless;
 *  - restarted EMPTY, the epoch guard rebuilds waiting users from the last checkpoint. Everything
 *    already drained to Postgres stays there; outbox records not yet drained when Redis died are
 *    gone with it (they existed only in Redis). Those are counted apart (`excused`), as the
 *    transitions still in the outbox just before the kill (and those committed after that read);
 *    anything else missing is a loss;
 *  - frozen, calls fail by their timeouts (REDIS_COMMAND_TIMEOUT_MS under the Redis policy) and
 *    never hang (`faultMaxCallMs`, `hangs`).
 */
import { CHAOS_CONFIG } from '../lib/env';
import { until } from '../lib/recovery';
import { runChaos } from '../lib/run';
import { startInProcess } from '../lib/systems';
import type { ScenarioOptions, ScenarioResult } from '../lib/types';
import { breakerWindows, scaled } from './scale';

const COMMAND_TIMEOUT_MS = CHAOS_CONFIG.REDIS_COMMAND_TIMEOUT_MS;
const FULL_DOWN_MS = 10_000;
const FULL_PAUSE_MS = 10_000;
// Longer than a command timeout (500 ms) plus retries, so the policy's breaker sees the failures.
const FLOOR_MS = 1500;

export async function redisKilledEmpty(o: ScenarioOptions): Promise<ScenarioResult> {
  const outageMs = scaled(FULL_DOWN_MS, o.durationScale, FLOOR_MS);
  await using sys = await startInProcess({ env: breakerWindows(outageMs) });
  let undrained = new Set<string>();
  let readAt = Infinity;
  let killedAt = 0;
  return await runChaos(
    sys,
    {
      failure: 'Redis SIGKILL, back empty',
      trips: ['redis'],
      outageMs,
      async inject(ctx) {
        // The rebuild needs a checkpoint of the users under load (CHECKPOINT_INTERVAL_MS is 500 ms here).
        const checkpointed = async () => (await sys.inspector.query<{ n: number }>("select count(*)::int as n from checkpoints where kind = 'user'"))[0]!.n > 0;
        if (!(await until(checkpointed, 5000))) ctx.notes.push('no checkpoint before the crash');
        readAt = Date.now();
        undrained = await sys.inspector.undrainedTransitions();
        ctx.stats.undrainedAtCrash = undrained.size;
        await sys.deps.redis.kill('SIGKILL');
        killedAt = Date.now();
      },
      async heal() {
        await sys.deps.redis.restart(); // no AOF: it comes back empty
      },
      // Undrained at the crash: in the outbox when it was read just before the kill, or committed
      // between that read and the kill (a script's clock is read when it is sent, up to a command
      // timeout before it runs, hence the margin).
      excuse: (t) => undrained.has(`${t.uid}|${t.version}|${t.at}`) || (t.at >= readAt - COMMAND_TIMEOUT_MS && t.at <= killedAt),
      async finish(ctx) {
        // What the epoch guard did: users rebuilt from the checkpoint, and how many transitions
        // landed on the empty Redis before the rebuild (the guard holds state scripts until it is
        // done, so none should): rows of the new event-id epoch numbered before the rebuild's own.
        const [rec] = await sys.inspector.query<{ context: { restored?: number; reset?: number } }>(
          "select context from recoveries where failure_type = 'redis_data_loss'",
        );
        ctx.stats.rebuiltWaiting = rec?.context.restored ?? 0;
        ctx.stats.rebuiltReset = rec?.context.reset ?? 0;
        ctx.stats.beforeRebuild = beforeRebuild(
          await sys.inspector.query<{ event_id: string; actor: string | null }>('select event_id, actor from state_transitions'),
        );
        if (!rec) ctx.notes.push('no redis_data_loss recovery recorded');
        if (ctx.stats.dupUserVersion) ctx.notes.push(`${ctx.stats.dupUserVersion} (user, version) pairs reused across the data loss`);
        if (ctx.stats.beforeRebuild) ctx.notes.push(`${ctx.stats.beforeRebuild} transitions ran on the empty Redis before the rebuild`);
      },
    },
    o,
  );
}

/** Event ids are `<pool>-<epoch>-<seq>` (pool names may contain '-'): rows of the rebuild's epoch numbered before its first row. */
function beforeRebuild(rows: Array<{ event_id: string; actor: string | null }>): number {
  const parse = (id: string) => {
    const parts = id.split('-');
    return { pool: parts.slice(0, -2).join('-'), epoch: parts.at(-2)!, seq: Number(parts.at(-1)) };
  };
  const firstRebuilt = new Map<string, number>(); // `<pool>|<epoch>` -> lowest seq of the rebuild's rows
  for (const r of rows) {
    if (r.actor !== 'recovery:epoch') continue;
    const e = parse(r.event_id);
    const k = `${e.pool}|${e.epoch}`;
    firstRebuilt.set(k, Math.min(firstRebuilt.get(k) ?? Infinity, e.seq));
  }
  let n = 0;
  for (const r of rows) {
    const e = parse(r.event_id);
    const first = firstRebuilt.get(`${e.pool}|${e.epoch}`);
    if (first !== undefined && r.actor !== 'recovery:epoch' && e.seq < first) n++;
  }
  return n;
}

export async function redisKilledAof(o: ScenarioOptions): Promise<ScenarioResult> {
  const outageMs = scaled(FULL_DOWN_MS, o.durationScale, FLOOR_MS);
  await using sys = await startInProcess({ aof: true, env: breakerWindows(outageMs) });
  return await runChaos(
    sys,
    {
      failure: 'Redis SIGKILL, back with AOF',
      trips: ['redis'],
      outageMs,
      async inject(ctx) {
        ctx.stats.undrainedAtCrash = await sys.inspector.backlog();
        await sys.deps.redis.kill('SIGKILL');
      },
      async heal() {
        await sys.deps.redis.restart(); // same dir: the AOF is replayed
      },
    },
    o,
  );
}

export async function redisPaused(o: ScenarioOptions): Promise<ScenarioResult> {
  const outageMs = scaled(FULL_PAUSE_MS, o.durationScale, FLOOR_MS);
  await using sys = await startInProcess({ env: breakerWindows(outageMs) });
  return await runChaos(
    sys,
    {
      failure: 'Redis paused (SIGSTOP)',
      trips: ['redis'],
      outageMs,
      async inject() {
        await sys.deps.redis.kill('SIGSTOP');
      },
      async heal() {
        await sys.deps.redis.kill('SIGCONT');
      },
    },
    o,
  );
}
