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
import { CHAOS_ENV } from '../lib/env';
import { until } from '../lib/recovery';
import { runChaos } from '../lib/run';
import { startInProcess } from '../lib/systems';
import type { ScenarioOptions, ScenarioResult } from '../lib/types';
import { scaled } from './scale';

const COMMAND_TIMEOUT_MS = Number(CHAOS_ENV.REDIS_COMMAND_TIMEOUT_MS);
const FULL_DOWN_MS = 10_000;
const FULL_PAUSE_MS = 10_000;
// Longer than a command timeout (500 ms) plus retries, so the policy's breaker sees the failures.
const FLOOR_MS = 1500;

export async function redisKilledEmpty(o: ScenarioOptions): Promise<ScenarioResult> {
  await using sys = await startInProcess({});
  let undrained = new Set<string>();
  let readAt = Infinity;
  let killedAt = 0;
  return await runChaos(
    sys,
    {
      failure: 'Redis SIGKILL, back empty',
      trips: ['redis'],
      outageMs: scaled(FULL_DOWN_MS, o.durationScale, FLOOR_MS),
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
        // What the epoch guard did: users rebuilt from the checkpoint, and how many of its forced
        // transitions landed on a user who had already acted on the empty Redis (version > 1).
        const [rec] = await sys.inspector.query<{ context: { restored?: number; reset?: number } }>(
          "select context from recoveries where failure_type = 'redis_data_loss'",
        );
        ctx.stats.rebuiltWaiting = rec?.context.restored ?? 0;
        ctx.stats.rebuiltReset = rec?.context.reset ?? 0;
        const [late] = await sys.inspector.query<{ n: number }>(
          "select count(*)::int as n from state_transitions where actor = 'recovery:epoch' and version > 1",
        );
        ctx.stats.rebuildOverwrote = late?.n ?? 0;
        if (!rec) ctx.notes.push('no redis_data_loss recovery recorded');
        if (ctx.stats.dupUserVersion)
          ctx.notes.push(`${ctx.stats.dupUserVersion} (user, version) pairs reused across the data loss: versions restart at 0 in an empty Redis`);
        if (ctx.stats.rebuildOverwrote)
          ctx.notes.push(`${ctx.stats.rebuildOverwrote} users moved on the empty Redis before the rebuild, then were forced back to their checkpoint`);
      },
    },
    o,
  );
}

export async function redisKilledAof(o: ScenarioOptions): Promise<ScenarioResult> {
  await using sys = await startInProcess({ aof: true });
  return await runChaos(
    sys,
    {
      failure: 'Redis SIGKILL, back with AOF',
      trips: ['redis'],
      outageMs: scaled(FULL_DOWN_MS, o.durationScale, FLOOR_MS),
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
  await using sys = await startInProcess({});
  return await runChaos(
    sys,
    {
      failure: 'Redis paused (SIGSTOP)',
      trips: ['redis'],
      outageMs: scaled(FULL_PAUSE_MS, o.durationScale, FLOOR_MS),
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
