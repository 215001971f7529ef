/**
 * npm run soak: the full call flow at a steady rate (bench/soak/paced-load.ts: `--rate` people
 * arriving a second) for `--duration` seconds against `--servers` server processes on a private Redis and a private Postgres, with a fault every `--fault-every`
 * seconds (bench/soak/faults.ts: Redis frozen, Postgres restarted, a server killed and restarted,
 * in turn), a reading every `--report-every` seconds (each server's heap, RSS, timers and sockets;
 * Redis memory, keys and pub/sub subscriptions; the audit outbox's backlog and oldest record).
 * After the load it waits for the retention windows (shortened to `--retention` seconds) to pass
 * and checks that nothing grew (bench/soak/growth.ts): Redis keys back to the baseline (match
 * records apart: kept 24 h, hard-coded), no subscription left, the outbox empty, each server's
 * timers, sockets and heap after a full collection back near its baseline.
 *
 * Usage: npm run soak -- --duration 1800 [--fault-every 180] [--report-every 60] [--rate 8]
 *        [--pause 5] [--retention 60] [--servers 2] [--skip 0.3] [--absent 0.1]
 * Prints the curve and the checks as tables, and ends with one JSON line:
 *   {"noGrowth":true|false,"keysBaseline":..,"keysEnd":..,"matchRecords":..,"subscribersEnd":..,...}
 * Exit code 1 when the check fails.
 */
import { Redis } from 'ioredis';
import { Keys } from '../server/state/keys';
import { benchArgs, BenchArgError } from './lib/args';
import { machine, printResult, printTable, progress } from './lib/report';
import { injectFault, type FaultRecord } from './soak/faults';
import { checkGrowth, MATCH_KIND, type StateSnapshot } from './soak/growth';
import { fullCallLoad } from './soak/full-call-load';
import { pacedLoad } from './soak/paced-load';
import { row, trend, type Point } from './soak/report';
import { leftUsers, read, snapshot } from './soak/sample';
import { startSystem } from './soak/system';
import { settle } from './soak/settle';
import { UNLIMITED_RATES } from '../tests/support/unlimited-rates';

const args = benchArgs('soak', {
  'fault-every': { default: 180, help: 'seconds between faults (Redis paused, Postgres restarted, a server killed: in turn)' },
  'report-every': { default: 60, help: 'seconds between readings' },
  driver: {
    default: 'paced',
    help: "'paced': --rate new people a second, 1 to 3 calls each (bench/soak/user-flow.ts); 'full-call': bench/flow/full-call.ts, a closed loop of --people",
  },
  rate: { default: 8, help: '--driver paced: people arriving per second' },
  people: { default: 40, help: '--driver full-call: people in the closed-loop population' },
  pause: { default: 5, help: 'seconds each fault lasts (Redis frozen, Postgres down, a server dead)' },
  retention: { default: 60, help: 'seconds of IDLE_TTL_MS, EVENT_HISTORY_TTL_MS, IDEMPOTENCY_TTL_MS and RECENT_PARTNERS_TTL_MS for the run' },
  servers: { default: 2, help: 'server processes' },
  skip: { default: '0.3', help: 'share of calls left by skip rather than end' },
  absent: { default: '0.1', help: 'paced: share of people who vanish mid-call (socket closed, no leave); full-call: probability per call of an absence' },
});
const share = (name: string, v: string) => {
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) throw new BenchArgError(`--${name} must be between 0 and 1, got "${v}"`);
  return x;
};
const skip = share('skip', args.skip);
const absent = share('absent', args.absent);

// Settings the run shortens: the retention windows (so the end check fits in minutes). The rest
// are production defaults; the per-address bounds are lifted because every person is on 127.0.0.1.
const retentionMs = String(args.retention * 1000);
const SOAK_ENV = {
  IDLE_TTL_MS: retentionMs,
  EVENT_HISTORY_TTL_MS: retentionMs,
  IDEMPOTENCY_TTL_MS: retentionMs,
  RECENT_PARTNERS_TTL_MS: retentionMs,
  WS_MAX_PER_IP: '100000',
  HTTP_RATE_PER_IP: '1000000',
  WS_MESSAGES_PER_SECOND: '100000',
  ...UNLIMITED_RATES,
};
// Server-made op ids live 60 s (server/state/store.ts); the cleanup job runs every 30 s.
const SERVER_OP_TTL_S = 60;
const CLEANUP_INTERVAL_S = 30;
const SETTLE_MAX_S = Math.max(args.retention, SERVER_OP_TTL_S) + 2 * CLEANUP_INTERVAL_S + 60;
// The servers' RECONNECT_GRACE_MS (production default): absent people come back around it.
const GRACE_MS = 10_000;
if (args.driver !== 'paced' && args.driver !== 'full-call') throw new BenchArgError(`--driver must be paced or full-call, got "${args.driver}"`);
const loadName = args.driver === 'paced' ? `${args.rate} people/s (paced)` : `${args.people} people (full-call)`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const loadAtStart = machine().load1m;
  progress(`soak: ${args.servers} servers, ${loadName}, ${args.duration} s, a fault every ${args['fault-every']} s`);
  await using sys = await startSystem({ servers: args.servers, env: SOAK_ENV });
  const redis = new Redis(sys.redis.url, { maxRetriesPerRequest: 1, commandTimeout: 2000, retryStrategy: () => 200 });
  redis.on('error', () => undefined);
  const keys = new Keys(sys.prefix);
  await sleep(10_000); // start-up work (migrations, first cleanup run) out of the baseline
  const baseline = await snapshot(sys.slots, redis, keys);
  const urls = sys.slots.map((s) => s.url);
  const load =
    args.driver === 'paced'
      ? pacedLoad({ urls: () => urls, secret: sys.secret, rate: args.rate, skip, absent })
      : fullCallLoad({ urls, secret: sys.secret, people: args.people, skip, absent, graceMs: GRACE_MS });
  const points: Point[] = [];
  const faults: FaultRecord[] = [];
  let pendingFaults: string[] = [];
  const t0 = Date.now();
  const at = () => (Date.now() - t0) / 1000;
  const record = async (phase: Point['phase']) => {
    const p: Point = { atSec: at(), phase, reading: await read(sys.slots, redis, keys), load: load.stats(), faults: pendingFaults };
    pendingFaults = [];
    points.push(p);
    progress(`soak ${JSON.stringify(row(p, points.at(-2) ?? null))}`);
  };
  await record('baseline');
  await load.start();
  let fault: Promise<void> | null = null;
  for (let nextReport = args['report-every'], nextFault = args['fault-every']; at() < args.duration; await sleep(250)) {
    if (at() >= nextFault && !fault) {
      const n = faults.length;
      pendingFaults.push(`#${n + 1}`);
      fault = injectFault(sys, n, args.pause, Math.round(at())).then((f) => {
        faults.push(f);
        progress(`soak fault #${n + 1} at ${f.atSec} s: ${f.kind} (${f.detail}) took ${f.tookMs} ms${f.error ? ` FAILED: ${f.error}` : ''}`);
        fault = null;
      });
      nextFault += args['fault-every'];
    }
    if (at() >= nextReport) {
      await record('load');
      nextReport += args['report-every'];
    }
  }
  await fault;
  progress('soak: load stopped');
  await load.stop();
  await record('load');
  const settled = await settle({ baseline, redis, keys, maxSec: SETTLE_MAX_S, everySec: args['report-every'], record: () => record('settle') });
  const end = await snapshot(sys.slots, redis, keys);
  const left = await leftUsers(redis, keys.root);
  await record('end');
  redis.disconnect();
  if (left.length)
    printTable(
      'soak: user hashes left in Redis (at most 20)',
      left.map((u) => ({ ...u })),
    );
  report(points, faults, baseline, end, settled, loadAtStart);
}

function report(
  points: Point[],
  faults: FaultRecord[],
  baseline: StateSnapshot,
  end: StateSnapshot,
  settled: { afterSec: number | null },
  loadAtStart: unknown,
) {
  const verdict = checkGrowth(baseline, end);
  printTable(
    `soak: every ${args['report-every']} s (heap/rss MiB per server slot; keys = DBSIZE; subs = pub/sub subscribers; outbox = audit records not yet in Postgres)`,
    points.map((p, i) => row(p, points[i - 1] ?? null)),
  );
  printTable(
    'soak: faults',
    faults.map((f, i) => ({ '#': i + 1, 'at s': f.atSec, kind: f.kind, detail: f.detail, 'took ms': f.tookMs, error: f.error ?? '' })),
  );
  printTable(
    'soak: no growth (end against baseline)',
    verdict.checks.map((c) => ({ check: c.name, baseline: c.baseline, end: c.end, limit: c.limit, pass: c.pass ? 'yes' : 'NO' })),
  );
  printTable('soak: keys of people and calls left, by kind', [{ ...end.keysByKind }]);
  printTable('soak: entries in pool and app keys, baseline -> end', [
    Object.fromEntries(
      [...new Set([...Object.keys(baseline.structureEntries), ...Object.keys(end.structureEntries)])].map((k) => [
        k,
        `${baseline.structureEntries[k] ?? 0} -> ${end.structureEntries[k] ?? 0}`,
      ]),
    ),
  ]);
  const last = points.at(-1)!.load;
  const t = trend(points, args.servers);
  const sum = (o: Record<string, number>, except?: string) => Object.entries(o).reduce((a, [k, v]) => (k === except ? a : a + v), 0);
  printResult({
    noGrowth: verdict.pass,
    failed: verdict.checks.filter((c) => !c.pass).map((c) => c.name),
    durationSec: args.duration,
    load: loadName,
    faults: faults.length,
    faultErrors: faults.filter((f) => f.error).length,
    calls: last.calls,
    errors: last.errors,
    loadDetail: last.detail,
    keysBaseline: baseline.keys,
    keysEnd: end.keys,
    personKeysEndWithoutMatchRecords: sum(end.keysByKind, MATCH_KIND),
    matchRecords: end.keysByKind[MATCH_KIND] ?? 0,
    keysBackAfterSec: settled.afterSec,
    subscribersBaseline: baseline.subscribers,
    subscribersEnd: end.subscribers,
    patternsEnd: end.patterns,
    outboxEnd: end.outboxBacklog,
    processes: end.processes.map((p, i) => ({ slot: p.slot, baseline: baseline.processes[i], end: p })),
    heapMiBPerMin: t.heapMiBPerMin,
    rssMiBPerMin: t.rssMiBPerMin,
    redisKeysPerMin: t.redisKeysPerMin,
    load1mAtStart: loadAtStart,
    load1mAtEnd: machine().load1m,
  });
  process.exitCode = verdict.pass ? 0 : 1;
}

await main();
