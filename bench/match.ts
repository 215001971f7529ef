/**
 * bench (matchmaking): matches per second, enqueue -> matched latency, server CPU per match and
 * server memory per idle connected client, with real tRPC WebSocket clients; with `--flow full`,
 * whole calls per second instead (bench/match/full-phase.ts).
 *
 * Setup: a fresh database on the shared Postgres and a fresh key prefix on the shared Redis (or a
 * private redis-server, or a private Redis Cluster of 3 masters + 3 replicas: bench/match/redis-target.ts);
 * `--servers` server processes (bench/match/server.ts, production settings, and the node flags of
 * `npm start` unless `--node-flags` says otherwise); load generators in processes of their own.
 * Phases:
 *   1. memory: server RSS (/proc VmRSS) with no clients, then with `--clients` idle clients
 *      connected and subscribed (like open browser tabs); also the CPU those idle clients cost,
 *      and the servers' V8 heap before and after (its young generation apart).
 *   2. churn: open-loop arrivals at `--rate` per second through bench/match/churn.ts, spread over
 *      `--pools` pools (bench/match/pools.ts); server CPU (/proc utime+stime) over the measured
 *      window divided by the matches made in it, and Redis CPU per master (bench/match/redis-load.ts).
 * `--flow full` replaces both phases with whole calls (bench/flow/full-call.ts, closed loop:
 *   `--population` people, signalling, IN_CALL, chat, skip or end, `--absent` of them dropping).
 * Usage: npm run bench -- --duration 10 [--rate 1000] [--clients 2000] [--servers 1] [--skip 0.2]
 *        [--redis shared|private|cluster] [--pools 1] [--profile DIR] [--livekit off|double] [--server-env K=V,K=V]
 *        [--node-flags=start|none|"--flag --flag"]   (the = form: the value starts with --)
 *        [--generator-flags="--flag"] [--idle-during-churn 1] [--flow churn|full] [--absent 0.05]
 * Ends with one JSON line: {"matchesPerSec":..,"p50Ms":..,"p99Ms":..,"maxMs":..,
 *   "serverCpuMsPerMatch":..,"rssKbPerClient":..,"clients":..,"errors":..,"pools":..,
 *   "redisMasters":[{"master":..,"pools":[..],"matchesPerSec":..,"cpuPct":..}],..}; with --flow full
 *   {"flow":"full","callsPerSec":..,"matchesPerSec":..,"p50Ms":..(enqueue->matched),
 *   "matchedToInCallP50Ms":..,"serverCpuMsPerCall":..,"redisCpuMsPerCall":..,"ghostMatches":..,"errors":..,...}
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../server/config';
import { createTestDatabase } from '../tests/support/databases';
import { benchArgs, BenchArgError } from './lib/args';
import { machine, printResult, printTable, progress } from './lib/report';
import { round } from './lib/stats';
import { startChild, startFlags, type Child } from './match/children';
import type { ChurnConfig, ChurnResult } from './match/churn';
import { fullPhase } from './match/full-phase';
import { choosePools, masterOfPool, slotOfPool } from './match/pools';
import { cpuMs, rssKb, sum } from './match/proc';
import { printRedisLoad, readNodes, redisLoad } from './match/redis-load';
import { openBenchRedis, type BenchRedis, type RedisKind } from './match/redis-target';
import { roomsEnv } from './match/rooms';
import { scrapeWaits, summarizeWaits } from './match/server-wait';
import { UNLIMITED_RATES } from '../tests/support/unlimited-rates';

const args = benchArgs('match', {
  rate: { default: 1000, help: 'arrivals (enqueues) per second offered; with --skip 0 this is the match rate' },
  clients: { default: 2000, help: 'idle connected clients for the memory phase' },
  servers: { default: 1, help: 'server processes' },
  population: { default: 0, help: 'churn clients (0: max(500, rate)); --flow full: people in the closed loop (0: 400)' },
  warmup: { default: 0, help: 'seconds of load before the measured window (0: 2 for the churn, 5 for --flow full)' },
  skip: { default: '0.2', help: 'fraction of matches left by skip rather than end (0..1)' },
  profile: { default: '', help: 'directory: write a V8 CPU profile of each server process (and of the load generator, in generator/) there' },
  livekit: { default: 'off', help: 'off: direct mode; double: LiveKit rooms against the LiveKit test double (see bench/match/rooms.ts)' },
  'server-env': { default: '', help: 'extra server environment, K=V,K=V (e.g. the rooms settings)' },
  'node-flags': { default: 'start', help: "server processes' node flags: 'start' (those of npm start), 'none', or a list" },
  'generator-flags': { default: '', help: "the churn generator's extra node flags (a list, in the = form)" },
  'idle-during-churn': { default: 0, help: "1: the memory phase's idle clients stay connected through the churn (open tabs beside the active users)" },
  verbose: { default: 0, help: '1: list every Redis command of the window, not the top 6' },
  flow: {
    default: 'churn',
    help: "'churn' (enqueue -> matched -> skip/end, plus the memory phase) or 'full' (whole calls, bench/flow/full-call.ts; no memory phase)",
  },
  absent: {
    default: '0.05',
    help: '--flow full: each time a person waits in the queue, and each time one reaches IN_CALL, they close their socket with probability absent/2',
  },
  redis: {
    default: 'shared',
    help: "'shared' (127.0.0.1:6379, fresh key prefix), 'private' (a redis-server of our own: Redis CPU is then ours alone) or 'cluster' (a Redis Cluster of our own, 3 masters + 3 replicas)",
  },
  pools: { default: 1, help: 'pools the churn clients are spread over (named by language/region so they fall evenly on 3 masters)' },
});
if (!['shared', 'private', 'cluster'].includes(args.redis)) throw new BenchArgError(`--redis must be shared, private or cluster, got "${args.redis}"`);
const redisKind = args.redis as RedisKind;
if (args.flow !== 'churn' && args.flow !== 'full') throw new BenchArgError(`--flow must be churn or full, got "${args.flow}"`);
if (args.flow === 'full' && (redisKind === 'cluster' || args.pools !== 1)) throw new BenchArgError('--redis cluster and --pools are for --flow churn');
if (!Number.isInteger(args.pools)) throw new BenchArgError(`--pools must be a whole number, got "${args.pools}"`);
const absent = Number(args.absent);
if (!(absent >= 0 && absent <= 1)) throw new BenchArgError(`--absent must be between 0 and 1, got "${args.absent}"`);
const skip = Number(args.skip);
if (!(skip >= 0 && skip <= 1)) throw new BenchArgError(`--skip must be between 0 and 1, got "${args.skip}"`);
// One process may hold RLIMIT_NOFILE (20,000 here) descriptors; keep room for everything else.
const MAX_SOCKETS_PER_PROCESS = 19_000;
if (args.clients / args.servers > MAX_SOCKETS_PER_PROCESS) {
  throw new BenchArgError(`--clients ${args.clients} over ${args.servers} server(s) exceeds ${MAX_SOCKETS_PER_PROCESS} sockets per process; add --servers`);
}
const GENERATOR_SOCKETS = 15_000;

const nodeFlags = args['node-flags'] === 'start' ? startFlags() : args['node-flags'] === 'none' ? [] : args['node-flags'].split(/\s+/).filter(Boolean);
const generatorFlags = args['generator-flags'].split(/\s+/).filter(Boolean);
type Listening = { type: 'listening'; url: string; pid: number };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serverEnv(target: BenchRedis, databaseUrl: string, secret: string): Record<string, string> {
  const extra = Object.fromEntries(
    args['server-env']
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return {
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    REDIS_URL: target.url,
    REDIS_PREFIX: target.prefix,
    ...target.env,
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: secret,
    // Thousands of simulated people connect from 127.0.0.1 (bench:abuse spreads them over addresses instead).
    WS_MAX_PER_IP: '100000',
    HTTP_RATE_PER_IP: '1000000',
    WS_MESSAGES_PER_SECOND: '100000',
    ...UNLIMITED_RATES,
    ...rooms.env,
    ...extra,
  };
}

/**
 * Waits until the servers are idle again (under 3% of a core for a second, at most 60 s): after
 * thousands of clients leave, presence clean-up runs for a while and would be billed to matches.
 */
async function quiet(pids: number[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (let c0 = sum(pids, cpuMs); Date.now() < deadline;) {
    await sleep(1000);
    const c1 = sum(pids, cpuMs);
    if (c1 - c0 < 30) return;
    c0 = c1;
  }
  progress('servers still busy after 60 s; measuring anyway');
}

async function memoryPhase(urls: string[], pids: number[], servers: Child[], secret: string, graceMs: number) {
  await sleep(2000);
  const before = sum(pids, rssKb);
  const heapBefore = await heaps(servers);
  const gens: Child[] = [];
  for (let left = args.clients; left > 0; left -= GENERATOR_SOCKETS) {
    const n = Math.min(GENERATOR_SOCKETS, left);
    gens.push(startChild('bench/match/idle.ts', { BENCH_CONFIG: JSON.stringify({ urls, secret, clients: n }) }, ['--max-old-space-size=6144']));
  }
  const t0 = Date.now();
  const ready = await Promise.all(gens.map((g) => g.next<{ type: 'ready'; connected: number; failed: number; lastError: string }>('ready', 600_000)));
  const failed = ready.reduce((a, r) => a + r.failed, 0);
  progress(
    `memory: ${args.clients - failed} idle clients connected in ${((Date.now() - t0) / 1000).toFixed(1)} s${failed ? `, ${failed} failed: ${ready.find((r) => r.lastError)?.lastError}` : ''}`,
  );
  await sleep(5000); // presence signals and subscriptions settle
  const after = sum(pids, rssKb);
  const heapAfter = await heaps(servers);
  const c0 = sum(pids, cpuMs);
  await sleep(5000);
  const idleCpuMsPerSec = (sum(pids, cpuMs) - c0) / 5;
  if (args['idle-during-churn']) return { before, after, heapBefore, heapAfter, idleCpuMsPerSec, failed, idle: gens };
  await Promise.all(gens.map((g) => g.stop()));
  // The idle clients' reconnect grace runs out RECONNECT_GRACE_MS after they left, and the
  // presence sweep then settles all of them at once: not during the churn window.
  await sleep(graceMs + 1000);
  await quiet(pids);
  return { before, after, heapBefore, heapAfter, idleCpuMsPerSec, failed, idle: [] as Child[] };
}

/**
 * The servers' V8 heap (summed, no collection forced): its committed size and the young
 * generation's part of it, which grows (up to npm start's --max-semi-space-size) when many
 * objects are allocated at once, as when thousands of clients connect.
 */
async function heaps(servers: Child[]): Promise<{ heapTotal: number; young: number }> {
  type Memory = { type: 'memory'; heapTotal: number; spaces: Record<string, { size: number }> };
  const all = await Promise.all(
    servers.map((s) => {
      s.send({ type: 'memory', gc: false } as { type: string });
      return s.next<Memory>('memory', 30_000);
    }),
  );
  return { heapTotal: all.reduce((a, m) => a + m.heapTotal, 0), young: all.reduce((a, m) => a + (m.spaces.new_space?.size ?? 0), 0) };
}

async function churnPhase(urls: string[], pids: number[], secret: string, target: BenchRedis, pools: string[]) {
  const cfg: ChurnConfig = {
    urls,
    secret,
    rate: args.rate,
    population: args.population || Math.max(500, args.rate),
    warmupSec: args.warmup || 2,
    durationSec: args.duration,
    skip,
    drainSec: 2,
    pools,
  };
  const profile = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}/generator`] : [];
  const gen = startChild('bench/match/churn.ts', { BENCH_CONFIG: JSON.stringify(cfg) }, ['--max-old-space-size=4096', ...generatorFlags, ...profile]);
  const ready = await gen.next<{ type: 'ready'; connected: number; failed: number }>('ready', 300_000);
  progress(`churn: ${ready.connected} clients connected; ${cfg.warmupSec} s warm-up, then ${args.duration} s measured at ${args.rate} arrivals/s`);
  gen.send({ type: 'go' });
  await gen.next('window-start', 120_000);
  const genPid = gen.proc.pid!;
  const [cpu0, g0, r0, w0] = [sum(pids, cpuMs), cpuMs(genPid), await readNodes(target), await scrapeWaits(urls)];
  await gen.next('window-end', (args.duration + 60) * 1000);
  const [cpu1, g1, r1, w1] = [sum(pids, cpuMs), cpuMs(genPid), await readNodes(target), await scrapeWaits(urls)];
  const result = await gen.next<ChurnResult>('result', 60_000);
  await gen.exited;
  const load = redisLoad(target, r0, r1, result.windowSec, result.matchesByPool);
  return { result, serverCpuMs: cpu1 - cpu0, generatorCpuMs: g1 - g0, redis: load.total, load, waits: summarizeWaits(w0, w1) };
}

async function main() {
  const loadAtStart = machine().load1m ?? '';
  progress(
    args.flow === 'full'
      ? `bench match --flow full: ${args.servers} server(s), ${args.population || 400} people, skip ${skip}, absent ${absent}, ${args.duration} s`
      : `bench match: ${args.servers} server(s), ${args.clients} idle clients, ${args.rate} arrivals/s, ${args.pools} pool(s), skip ${skip}, ${args.duration} s`,
  );
  await using db = await createTestDatabase();
  await using target = await openBenchRedis(redisKind);
  const pools = choosePools(args.pools, target.ranges);
  for (const p of pools)
    progress(`pool ${p}: slot ${slotOfPool(p)}, ${redisKind === 'cluster' ? 'master' : 'on a 3-master cluster:'} ${masterOfPool(p, target.ranges)}`);
  const secret = randomBytes(24).toString('hex');
  const nodeArgs = [...nodeFlags, ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [])];
  // The first server migrates the fresh database alone: concurrent first starts race on CREATE TABLE.
  const env = serverEnv(target, db.url, secret);
  const servers = [startChild('bench/match/server.ts', env, nodeArgs)];
  try {
    const first = await servers[0]!.next<Listening>('listening', 60_000);
    servers.push(...Array.from({ length: args.servers - 1 }, () => startChild('bench/match/server.ts', env, nodeArgs)));
    const listening = [first, ...(await Promise.all(servers.slice(1).map((s) => s.next<Listening>('listening', 60_000))))];
    const urls = listening.map((l) => l.url);
    const pids = listening.map((l) => l.pid);
    if (args.flow === 'full') {
      const figures = await fullPhase({
        urls,
        pids,
        secret,
        redis: target.masters[0]!.redis,
        redisKind: args.redis,
        redisUrl: target.url,
        keyRoot: target.prefix,
        people: args.population || 400,
        skip,
        absent,
        graceMs: loadConfig(env).RECONNECT_GRACE_MS,
        warmupSec: args.warmup || 5,
        durationSec: args.duration,
        generatorArgs: [...generatorFlags, ...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}/generator`] : [])],
      });
      printTable('machine', [
        { ...machine(), load1mAtStart: loadAtStart, servers: args.servers, redis: args.redis, serverFlags: nodeFlags.join(' ') || '(none)' },
      ]);
      printResult({ ...figures, servers: args.servers, skip, redis: args.redis, livekit: args.livekit });
      return;
    }
    const mem = await memoryPhase(urls, pids, servers, secret, loadConfig(env).RECONNECT_GRACE_MS);
    const churn = await churnPhase(urls, pids, secret, target, pools);
    await Promise.all(mem.idle.map((g) => g.stop()));
    const r = churn.result;
    const connected = args.clients - mem.failed;
    const figures = {
      matchesPerSec: round(r.matches / r.windowSec),
      p50Ms: round(r.latency.p50Ms),
      p99Ms: round(r.latency.p99Ms),
      maxMs: round(r.latency.maxMs),
      serverCpuMsPerMatch: round(churn.serverCpuMs / Math.max(1, r.matches)),
      rssKbPerClient: connected > 0 ? round((mem.after - mem.before) / connected) : null,
      clients: connected,
      errors: r.errors + r.inconsistent + mem.failed + r.connectFailed,
    };
    printTable('matchmaking: churn', [
      { measure: 'arrivals/s offered', value: args.rate },
      { measure: 'arrivals/s delivered', value: round((r.arrivals - r.starved) / r.windowSec) },
      { measure: 'matches/s', value: figures.matchesPerSec },
      { measure: 'enqueue->matched p50 ms', value: figures.p50Ms },
      { measure: 'enqueue->matched p99 ms', value: figures.p99Ms },
      { measure: 'enqueue->matched max ms', value: figures.maxMs },
      { measure: 'slowest 1%: arrivals / stalls (done within 2 ms) / largest', value: `${r.tail.slowest} / ${r.tail.bursts} / ${r.tail.largest}` },
      { measure: 'front-of-queue wait p50 ms', value: round(r.frontWait.p50Ms) },
      { measure: 'generator: scheduled -> enqueue sent p50 / p99 ms', value: `${round(r.sendLate.p50Ms)} / ${round(r.sendLate.p99Ms)}` },
      { measure: 'generator: enqueue round trip p50 / p99 ms', value: `${round(r.enqueueRtt.p50Ms)} / ${round(r.enqueueRtt.p99Ms)}` },
      {
        measure: 'server: queue wait p50 / p99 ms (bucket bound)',
        value: `<= ${churn.waits.p50BucketMs} / <= ${churn.waits.p99BucketMs} (${round(100 * churn.waits.within1Ms)}% within 1 ms)`,
      },
      { measure: 'server CPU ms per match', value: figures.serverCpuMsPerMatch },
      { measure: 'server CPU, % of one core', value: round(churn.serverCpuMs / 10 / r.windowSec) },
      { measure: 'load generator CPU ms per match', value: round(churn.generatorCpuMs / Math.max(1, r.matches)) },
      { measure: `Redis CPU ms per match (${args.redis} Redis)`, value: round((churn.redis.cpuSec * 1000) / Math.max(1, r.matches)) },
      { measure: 'skips / ends', value: `${r.skips} / ${r.ends}` },
      { measure: 'errors / inconsistent pairs', value: `${r.errors} / ${r.inconsistent}${r.lastError ? ` (${r.lastError})` : ''}` },
      { measure: 'starved arrivals / unmatched at end', value: `${r.starved} / ${r.unmatched}` },
      {
        measure: 'events per match (WebSocket messages)',
        value: Object.entries(r.eventsPerMatch)
          .map(([t, n]) => `${t} ${n}`)
          .join(', '),
      },
      { measure: 'generator loop delay p99 / max ms', value: `${round(r.loopDelayP99Ms)} / ${round(r.loopDelayMaxMs)}` },
    ]);
    printTable('matchmaking: memory', [
      { measure: 'server RSS without clients, MiB', value: round(mem.before / 1024) },
      { measure: `server RSS with ${connected} idle clients, MiB`, value: round(mem.after / 1024) },
      { measure: 'RSS per idle client, KiB', value: figures.rssKbPerClient ?? 'n/a' },
      {
        measure: 'V8 heap (committed) per idle client, KiB',
        value: connected > 0 ? round((mem.heapAfter.heapTotal - mem.heapBefore.heapTotal) / 1024 / connected) : 'n/a',
      },
      { measure: 'young generation before -> after, MiB', value: `${round(mem.heapBefore.young / 2 ** 20)} -> ${round(mem.heapAfter.young / 2 ** 20)}` },
      { measure: 'server CPU with idle clients, ms/s', value: round(mem.idleCpuMsPerSec) },
    ]);
    const top = Object.entries(churn.redis.commands)
      .sort((a, b) => b[1].usec - a[1].usec)
      .slice(0, args.verbose ? 40 : 6)
      .map(([name, c]) => ({ command: name, 'calls/match': round(c.calls / Math.max(1, r.matches)), 'usec/call': round(c.usec / c.calls) }));
    printTable(
      `Redis commands in the window (${args.redis === 'shared' ? 'shared Redis: includes other users' : `private Redis${redisKind === 'cluster' ? ' Cluster, all masters' : ''}`})`,
      top,
    );
    const redisMasters = printRedisLoad(churn.load, r.windowSec);
    printTable('machine', [
      { ...machine(), load1mAtStart: loadAtStart, servers: args.servers, redis: args.redis, serverFlags: nodeFlags.join(' ') || '(none)' },
    ]);
    const redisCpuMsPerMatch = round((churn.redis.cpuSec * 1000) / Math.max(1, r.matches));
    printResult({
      ...figures,
      servers: args.servers,
      rate: args.rate,
      skip,
      redis: args.redis,
      redisCpuMsPerMatch,
      livekit: args.livekit,
      pools: args.pools,
      redisMasters,
      ...(churn.load.replicas ? { replicasCpuPct: round(churn.load.replicasCpuMs / 10 / r.windowSec) } : {}),
    });
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await rooms.close();
  }
}

const rooms = await roomsEnv(args.livekit);
await main();
