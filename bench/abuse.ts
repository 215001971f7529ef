/**
 * bench (abuse): do hostile clients hurt honest ones, grow memory, or crash the server?
 *
 * Setup as bench/match.ts: a fresh database and key prefix, one server process
 * (bench/match/server.ts, production settings and npm start's node flags), honest churn from
 * bench/match/churn.ts in a process of its own, and one process per attack
 * (bench/abuse/attacker.ts; the attacks are listed in bench/abuse/context.ts).
 * Phases: honest churn alone (its warm-up, then `--duration` s measured: the baseline); the same
 * again with every chosen attack running at `--attack-rate` from before its warm-up until its
 * window ends; then `--cooldown` s of nothing. Server RSS, Redis memory, keys and pub/sub
 * channels are read at start, after each phase and after the cool-down.
 * Who connects from where: every process from loopback addresses of its own (./abuse/addresses.ts),
 * since the server bounds sockets per client address. The attackers run at a lower CPU priority
 * (`--attacker-nice`): on one machine they would otherwise starve the server of the CPU that,
 * on the internet, would be theirs, not its. The report shows both processes' CPU and the
 * server's event-loop lag, to tell a slow server from a busy machine.
 * A server that exits ends the run at once: crashed:true and exit code 1. Every wait has a timeout.
 * Usage: npm run bench:abuse -- --duration 10 [--rate 200] [--attack-rate 200] [--attacks a,b,c,d,e,f,g,h]
 *        [--attack-inflight 64] [--attack-language de] [--hold-sockets 2000] [--sse-abort-ms 5] [--attacker-nice 10]
 *        [--warmup 2] [--cooldown 5] [--skip 0.2] [--livekit off|double] [--server-env K=V,K=V]
 *        [--redis private|shared]   (--help lists them)
 * Ends with one JSON line: {"baselineMatchesPerSec":..,"attackMatchesPerSec":..,"throughputRatio":..,
 *   "baselineP99Ms":..,"attackP99Ms":..,"p99Ratio":..,"rssGrowthMb":..,"redisMemGrowthMb":..,
 *   "redisKeysGrowth":..,"crashed":..,"attacks":{..},"met":..}
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { setPriority } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createTestDatabase, createTestRedis } from '../tests/support/databases';
import { startRedisServer } from '../tests/support/redis-server';
import { benchArgs, BenchArgError } from './lib/args';
import { machine, printResult, printTable, progress } from './lib/report';
import type { AttackResult } from './abuse/attacker';
import { attackerAddress, honestAddresses } from './abuse/addresses';
import { isAttackId, type AttackerConfig, type AttackId } from './abuse/context';
import { probe } from './abuse/probe';
import { figures, printReport, type HonestWindow, type RunOutcome } from './abuse/report';
import { counterDelta, scrapeMetrics } from './abuse/server-metrics';
import { startChild, startFlags, type Child } from './match/children';
import type { ChurnConfig, ChurnResult } from './match/churn';
import { cpuMs, sum } from './match/proc';
import { roomsEnv } from './match/rooms';

const args = benchArgs('abuse', {
  rate: { default: 200, help: 'honest arrivals (enqueues) per second, in both windows' },
  'attack-rate': { default: 200, help: 'requests (sockets, subscriptions) per second, per attack' },
  attacks: {
    default: 'a,b,c,d,e,f,g,h',
    help: 'a malformed HTTP, b pool spray, c SSE open-and-abort, d big signalling, e subscription flood, f idle sockets, g invalid calls, h unsigned webhooks (needs --livekit double), x control (the same load against a bare HTTP server: the machine part, not the server part)',
  },
  'attack-inflight': { default: 64, help: "each attacker's cap on requests in flight (beyond it, requests are shed and counted)" },
  'attack-language': { default: 'de', help: "queue language of attack d's colluding signallers (honest users stay in the default pool)" },
  'hold-sockets': { default: 2000, help: 'sockets attack f keeps open at once' },
  'sse-abort-ms': { default: 5, help: "how long attack c's SSE streams stay open" },
  'attacker-cpus': {
    default: '',
    help: 'pin the attackers to these CPUs (taskset list, e.g. 1) and the server, its private Redis and the honest generator to --others-cpus: on the internet attackers bring their own CPUs',
  },
  'others-cpus': { default: '0', help: 'with --attacker-cpus: the CPUs of the server and its private Redis' },
  'generator-cpus': {
    default: '',
    help: "with --attacker-cpus: the honest generator's CPUs (default: --others-cpus); the attackers' CPUs put it on the internet's side, at a better nice than the attackers",
  },
  'attacker-nice': { default: '10', help: "CPU priority (nice, 0-19) of the attackers: on the internet they would not share the server's CPUs" },
  warmup: { default: 2, help: 'seconds of churn before each measured window' },
  cooldown: { default: 5, help: 'seconds after the attack before memory is read again' },
  skip: { default: '0.2', help: 'fraction of honest matches left by skip rather than end' },
  livekit: { default: 'off', help: 'off: direct mode (attack h is skipped); double: LiveKit rooms against the test double' },
  'server-env': { default: '', help: 'extra server environment, K=V,K=V' },
  // Private by default: the memory verdict reads used_memory, which on the shared Redis moves with whatever else runs there.
  redis: { default: 'private', help: "'private' (a redis-server of our own: used_memory is ours alone) or 'shared' (127.0.0.1:6379, fresh key prefix)" },
});
const attackIds = [...new Set(args.attacks.split(',').map((s) => s.trim()))].filter(Boolean);
for (const id of attackIds) if (!isAttackId(id)) throw new BenchArgError(`--attacks: unknown attack "${id}" (a-h)`);
if (args.redis !== 'shared' && args.redis !== 'private') throw new BenchArgError(`--redis must be shared or private, got "${args.redis}"`);
const attackerNice = Number(args['attacker-nice']);
const othersCpus = args['attacker-cpus'] ? args['others-cpus'] : '';
/** Pins every thread of `pid` to `cpus` (a taskset list); nothing when `cpus` is empty. */
function pin(pid: number, cpus: string): void {
  if (cpus) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
if (!(Number.isInteger(attackerNice) && attackerNice >= 0 && attackerNice <= 19))
  throw new BenchArgError(`--attacker-nice must be 0-19, got "${args['attacker-nice']}"`);
const skip = Number(args.skip);
if (!(skip >= 0 && skip <= 1)) throw new BenchArgError(`--skip must be between 0 and 1, got "${args.skip}"`);

/** CPU ms of the processes; one that has exited counts 0. */
function cpu(pids: number[]): number {
  return sum(pids, (p) => {
    try {
      return cpuMs(p);
    } catch {
      return 0;
    }
  });
}

class ServerExited extends Error {
  readonly code = 'SERVER_EXITED';
}

/** The server's settings: its defaults (production), plus --server-env. */
function serverEnv(redisUrl: string, prefix: string, databaseUrl: string, secret: string, rooms: Record<string, string>): Record<string, string> {
  const extra = args['server-env']
    .split(',')
    .filter(Boolean)
    .map((kv): [string, string] => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]);
  const base = { NODE_ENV: 'production', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  return { ...base, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, DATABASE_URL: databaseUrl, SESSION_SECRET: secret, ...rooms, ...Object.fromEntries(extra) };
}

async function main(): Promise<number> {
  progress(`bench abuse: ${args.rate} honest arrivals/s; attacks ${attackIds.join(',')} at ${args['attack-rate']}/s each; ${args.duration} s windows`);
  const rooms = await roomsEnv(args.livekit);
  await using db = await createTestDatabase();
  await using own = args.redis === 'private' ? await startRedisServer() : null;
  await using kv = await createTestRedis(own?.url);
  const redis = new Redis(kv.url);
  const secret = randomBytes(24).toString('hex');
  const server = startChild('bench/match/server.ts', serverEnv(kv.url, kv.prefix, db.url, secret, rooms.env), startFlags());
  pin(server.proc.pid!, othersCpus);
  if (own) pin(own.pid, othersCpus);
  const children = new Set<Child>();
  const run: RunOutcome = { baseline: null, attack: null, probes: {}, attacks: {}, crashedIn: null };
  let phase = 'start-up';
  /** `p`, unless the server exits first. */
  const guard = <T>(p: Promise<T>) => Promise.race([p, server.exited.then((code) => Promise.reject(new ServerExited(`server exited (${code})`)))]);
  const attackers = new Map<AttackId, Child>();
  try {
    const { url, pid } = await guard(server.next<{ type: 'listening'; url: string; pid: number }>('listening', 60_000));
    progress(`server pid ${pid} listening on ${url}`);
    const look = () => probe(redis, kv.prefix, pid);

    /** One run of the honest generator: connect, `onGo`, warm-up, the measured window, `onEnd`. */
    const honest = async (onGo = () => {}, onEnd = async () => {}): Promise<HonestWindow> => {
      const cfg: ChurnConfig = {
        urls: [url],
        secret,
        rate: args.rate,
        population: Math.max(500, args.rate),
        warmupSec: args.warmup,
        durationSec: args.duration,
        skip,
        drainSec: 2,
        sourceAddresses: honestAddresses(Math.max(500, args.rate)),
      };
      const gen = startChild('bench/match/churn.ts', { BENCH_CONFIG: JSON.stringify(cfg) }, ['--max-old-space-size=4096']);
      pin(gen.proc.pid!, args['attacker-cpus'] ? args['generator-cpus'] || othersCpus : '');
      children.add(gen);
      const ready = await guard(gen.next<{ type: 'ready'; connected: number; failed: number }>('ready', 300_000));
      progress(`${phase}: ${ready.connected} honest clients connected (${ready.failed} failed)`);
      // Before the attackers start (a new connection may wait seconds once they run); the lag
      // histogram restarts here, so the server's lag covers the warm-up and the window.
      const m0 = await scrapeMetrics(url);
      onGo();
      gen.send({ type: 'go' });
      await guard(gen.next('window-start', 120_000));
      const attackerPids = [...attackers.values()].map((c) => c.proc.pid!);
      const [s0, a0] = [cpu([pid]), cpu(attackerPids)];
      await guard(gen.next('window-end', (args.duration + 60) * 1000));
      const [s1, a1] = [cpu([pid]), cpu(attackerPids)];
      // The scrape may take seconds under attack (a new connection): the attack ends on time regardless.
      const [m1] = await Promise.all([scrapeMetrics(url), onEnd()]);
      const result = await guard(gen.next<ChurnResult>('result', 60_000));
      await Promise.race([gen.exited, sleep(15_000, null, { ref: false })]);
      children.delete(gen);
      const pct = (ms: number) => ms / 10 / args.duration;
      return {
        result,
        serverCpuPct: pct(s1 - s0),
        attackerCpuPct: pct(a1 - a0),
        serverLag: m1 && { p99Ms: m1.lagP99Ms, maxMs: m1.lagMaxMs },
        serverCounters: counterDelta(m0, m1),
      };
    };

    run.probes.start = await look();
    phase = 'baseline';
    run.baseline = await honest();
    // The baseline's clients have just closed their sockets: let the server see them go.
    await guard(sleep(2000));
    run.probes.afterBaseline = await look();

    phase = 'attack';
    for (const id of attackIds as AttackId[]) {
      if (id === 'h' && args.livekit !== 'double') {
        run.attacks.h = { skipped: 'skipped: the server runs without LiveKit (the webhook answers 404); use --livekit double' };
        continue;
      }
      const cfg: AttackerConfig = {
        attack: id,
        url,
        secret,
        rate: args['attack-rate'],
        maxInflight: args['attack-inflight'],
        language: args['attack-language'],
        holdSockets: args['hold-sockets'],
        sseAbortMs: args['sse-abort-ms'],
        sourceAddress: attackerAddress(attackers.size),
      };
      const attacker = startChild('bench/abuse/attacker.ts', { BENCH_CONFIG: JSON.stringify(cfg) }, ['--max-old-space-size=2048']);
      setPriority(attacker.proc.pid!, attackerNice);
      pin(attacker.proc.pid!, args['attacker-cpus']);
      attackers.set(id, attacker);
    }
    await guard(Promise.all([...attackers.values()].map((c) => c.next('ready', 60_000))));
    run.attack = await honest(
      () => {
        progress(`attack: ${attackers.size} attackers go`);
        for (const c of attackers.values()) c.send({ type: 'go' });
      },
      () => collect(attackers, run),
    );
    run.probes.afterAttack = await look();
    phase = 'cool-down';
    await guard(sleep(args.cooldown * 1000));
    run.probes.afterCooldown = await look();
  } catch (e) {
    if (!(e instanceof ServerExited)) throw e;
    run.crashedIn = phase;
    progress(`the server process exited during ${phase}: stopping the load`);
    await collect(attackers, run);
    run.probes.afterCooldown = await probe(redis, kv.prefix, server.proc.pid!).catch(() => undefined);
  } finally {
    // A generator or attacker cut short (a crash, a bench error) is ended at once: SIGTERM, then SIGKILL.
    const left = [...children, ...attackers.values()].filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
    for (const c of left) c.proc.kill('SIGTERM');
    await Promise.all(left.map((c) => Promise.race([c.exited, sleep(5000, null, { ref: false }).then(() => c.proc.kill('SIGKILL'))])));
    await server.stop();
    redis.disconnect();
    await rooms.close();
  }
  const f = figures(run, args.rate, args['attack-rate']);
  printReport(run, f);
  printTable('machine', [
    {
      ...machine(),
      redis: args.redis,
      livekit: args.livekit,
      attackerNice,
      attackerCpus: args['attacker-cpus'] || '(any)',
      serverEnv: args['server-env'] || '(defaults)',
    },
  ]);
  printResult(f);
  return run.crashedIn ? 1 : 0;
}

/** Stops the attackers and keeps what each reports (an attacker that does not answer is noted, not waited for). */
async function collect(attackers: Map<AttackId, Child>, run: RunOutcome): Promise<void> {
  for (const c of attackers.values()) c.send({ type: 'stop' });
  await Promise.all(
    [...attackers].map(async ([id, c]) => {
      if (run.attacks[id]) return;
      run.attacks[id] = await c.next<AttackResult>('result', 30_000).catch((e: unknown) => ({ lost: `no result: ${String(e)}` }));
      await c.stop(5000);
    }),
  );
}

// Every child's output is piped to our stderr: nine children are more pipes than the default
// listener limit, which would warn about a leak that is not one.
process.stderr.setMaxListeners(64);
process.exitCode = await main();
