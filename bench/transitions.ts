/**
 * State transitions benchmark: single-user transitions (`StateStore.transition`, the generic CAS
 * script) against a real Redis, under a unique key prefix that is removed afterwards.
 *
 *   npm run bench:transitions -- --duration 10
 *
 * Users cycle IDLE -> WAITING -> IDLE; a user never has two transitions in flight, and each user
 * always goes through the same connection. Phases:
 *   0. warm-up (closed loop, 2 s): creates the users, loads the scripts, warms the JIT;
 *   1. max throughput: closed loop with --concurrency operations in flight -> transitions/s;
 *   2. open loop at --rate offered transitions/s -> p50/p99 latency from each scheduled time;
 *   3. baseline: the same open loop with PING, the latency floor of this machine at that rate.
 * Redis CPU and per-command time (INFO commandstats) are read around each phase, so the tables
 * show what one transition costs inside Redis. The last stdout line is the JSON result.
 */
import { Redis } from 'ioredis';
import { loadConfig } from '../server/config';
import { redisOptions } from '../server/infra/redis';
import { systemClock } from '../server/shared/clock';
import { InvalidTransitionError, isDomainError } from '../server/state/errors';
import { StateStore, stateLimits } from '../server/state/store';
import { benchArgs } from './lib/args';
import { closedLoop, openLoop, type LoadResult, type Op } from './lib/load';
import { machine, printResult, printTable, progress } from './lib/report';
import { diffCounters, serverCounters, uniquePrefix, unlinkPrefix, type ServerCounters } from './lib/redis';
import { round } from './lib/stats';

const args = benchArgs('transitions', {
  rate: { default: 10_000, help: 'offered transitions/s in the latency phase' },
  concurrency: { default: 256, help: 'transitions in flight in the max-throughput phase' },
  connections: { default: 4, help: 'ioredis connections (one StateStore each)' },
  users: { default: 50_000, help: 'distinct users cycling IDLE <-> WAITING' },
  redis: { default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', help: 'Redis URL' },
  scripts: { default: 'function', help: "'eval': EVALSHA with the libraries in every script, to compare with Redis Functions" },
  autopipelining: { default: 'off', help: "'on': ioredis enableAutoPipelining (not the production setting; to compare)" },
});

const POOL = 'global';
/** How a script call shows in INFO commandstats: FCALL (functions), EVALSHA / EVAL (--scripts eval). */
const SCRIPT_CALLS = ['fcall', 'evalsha', 'eval', 'function'];
// Production defaults for every limit and timeout (command timeout 2 s, op records 10 min, ...).
const cfg = loadConfig({ NODE_ENV: 'production', REDIS_PREFIX: uniquePrefix('bench') });

/** Users with their last known state; hands out users that have nothing in flight. */
class Users {
  private readonly waiting: Uint8Array;
  private readonly busy: Uint8Array;
  private cursor = 0;
  constructor(readonly size: number) {
    this.waiting = new Uint8Array(size);
    this.busy = new Uint8Array(size);
  }
  take(): number {
    for (let tries = 0; tries < this.size; tries++) {
      const i = this.cursor;
      this.cursor = (this.cursor + 1) % this.size;
      if (!this.busy[i]) {
        this.busy[i] = 1;
        return i;
      }
    }
    return -1;
  }
  isWaiting(i: number): boolean {
    return this.waiting[i] === 1;
  }
  release(i: number, waiting: boolean): void {
    this.waiting[i] = waiting ? 1 : 0;
    this.busy[i] = 0;
  }
}

interface Phase {
  name: string;
  load: string;
  r: LoadResult;
  redis: ServerCounters;
  failures: Record<string, number>;
}

async function connect(i: number): Promise<Redis> {
  const r = new Redis(args.redis, { ...redisOptions(cfg, `bench-${i}`), enableAutoPipelining: args.autopipelining === 'on' });
  r.on('error', () => undefined);
  await r.connect();
  return r;
}

async function main() {
  const conns = await Promise.all(Array.from({ length: args.connections }, (_, i) => connect(i)));
  const admin = conns[0]!;
  const limits = stateLimits(cfg);
  const stores = conns.map((r) => new StateStore(r, cfg.REDIS_PREFIX, limits, systemClock, {}, args.scripts === 'eval' ? 'eval' : 'function'));
  const users = new Users(args.users);
  let failures: Record<string, number> = {};
  const fail = (why: string) => {
    failures[why] = (failures[why] ?? 0) + 1;
    return false;
  };

  const transition: Op = async () => {
    const i = users.take();
    if (i < 0) return fail('every user busy');
    let waiting = users.isWaiting(i);
    try {
      const r = await stores[i % stores.length]!.transition({ uid: `u${i}`, pool: POOL, to: waiting ? 'IDLE' : 'WAITING' });
      waiting = r.state === 'WAITING';
      return true;
    } catch (e) {
      if (e instanceof InvalidTransitionError) waiting = e.from === 'WAITING';
      return fail(isDomainError(e) ? e.code : String(e));
    } finally {
      users.release(i, waiting);
    }
  };
  let next = 0;
  const ping: Op = async () => (await conns[next++ % conns.length]!.ping()) === 'PONG';

  const phases: Phase[] = [];
  const measure = async (name: string, load: string, seconds: number, run: (durationSec: number) => Promise<LoadResult>) => {
    progress(`${name}: ${load} for ${seconds} s ...`);
    failures = {};
    const before = await serverCounters(admin);
    const r = await run(seconds);
    phases.push({ name, load, r, redis: diffCounters(before, await serverCounters(admin)), failures });
    return r;
  };
  const rate = `open loop, ${args.rate.toLocaleString('en-US')}/s`;
  const closed = `closed loop, ${args.concurrency} in flight`;

  const cpu0 = process.cpuUsage();
  try {
    await measure('warm-up', closed, 2, (d) => closedLoop({ concurrency: args.concurrency, durationSec: d, op: transition }));
    phases.length = 0;
    const max = await measure('max throughput', closed, args.duration, (d) => closedLoop({ concurrency: args.concurrency, durationSec: d, op: transition }));
    const fixed = await measure('fixed rate', rate, args.duration, (d) => openLoop({ rate: args.rate, durationSec: d, op: transition }));
    // The same open loop with PING instead of a transition: the round trip this machine gives
    // anyway (scheduler, event loop, network stack), to tell script cost from environment noise.
    await measure('baseline: PING', rate, args.duration, (d) => openLoop({ rate: args.rate, durationSec: d, op: ping }));
    const cpu = process.cpuUsage(cpu0);
    const benchCpuPct = Math.round(((cpu.user + cpu.system) / 1e6 / phases.reduce((s, p) => s + p.r.elapsedSec, 0)) * 100);

    report(phases, {
      ...machine(),
      connections: args.connections,
      users: args.users,
      'bench CPU %': benchCpuPct,
      'open-loop max lag ms': round(fixed.maxLagMs ?? 0),
    });
    const l = fixed.latency.summary();
    printResult({ transitionsPerSec: Math.round(max.throughput), p50Ms: round(l.p50Ms), p99Ms: round(l.p99Ms) });
  } finally {
    const removed = await unlinkPrefix(admin, cfg.REDIS_PREFIX).catch(() => -1);
    progress(`cleaned up ${removed} keys under ${cfg.REDIS_PREFIX}:`);
    for (const c of conns) c.disconnect();
  }
}

function report(phases: Phase[], run: Record<string, string | number>): void {
  printTable(
    'State transitions (StateStore.transition, IDLE <-> WAITING)',
    phases.map(({ name, load, r, failures }) => {
      const l = r.latency.summary();
      return {
        phase: name,
        load,
        'ok/s': Math.round(r.throughput),
        failed: r.failed
          ? `${r.failed} (${Object.entries(failures)
              .map(([k, v]) => `${k}: ${v}`)
              .join(', ')})`
          : '0',
        'p50 ms': round(l.p50Ms),
        'p90 ms': round(l.p90Ms),
        'p99 ms': round(l.p99Ms),
        'p99.9 ms': round(l.p999Ms),
        'max ms': round(l.maxMs),
        'loop delay p99/max ms': `${round(r.loopDelay.p99Ms)} / ${round(r.loopDelay.maxMs)}`,
      };
    }),
  );
  const transitions = phases.filter((p) => !p.name.startsWith('baseline'));
  printTable(
    'Inside Redis, per transition (INFO commandstats counts commands called from Lua too)',
    transitions.map(({ name, r, redis }) => {
      const sha = redis.commands.fcall ?? redis.commands.evalsha ?? { calls: 0, usec: 0 };
      const inner = Object.entries(redis.commands).filter(([c]) => !SCRIPT_CALLS.includes(c) && !['info', 'scan', 'unlink', 'ping'].includes(c));
      const n = Math.max(1, r.ok + r.failed);
      return {
        phase: name,
        'script us/call': round(sha.usec / Math.max(1, sha.calls)),
        'its commands us': round(inner.reduce((s, [, v]) => s + v.usec, 0) / n),
        'redis CPU us/transition': round((redis.cpuSec * 1e6) / n),
        'redis CPU %': Math.round((redis.cpuSec / r.elapsedSec) * 100),
      };
    }),
  );
  const first = transitions[0]!;
  printTable(
    `Commands called by the script (${first.name})`,
    Object.entries(first.redis.commands)
      // On a shared Redis other clients' commands show up too; the script's are >= 0.4 per transition.
      .filter(([c, v]) => !SCRIPT_CALLS.includes(c) && v.calls >= 0.4 * first.r.ok)
      .sort((a, b) => b[1].usec - a[1].usec)
      .map(([command, v]) => ({ command, 'calls/transition': round(v.calls / Math.max(1, first.r.ok)), 'us/call': round(v.usec / v.calls) })),
  );
  printTable('Run', [run]);
}

await main();
