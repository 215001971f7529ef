/**
 * Audit drain benchmark: outbox (Redis stream, unique key prefix) -> OutboxDrain -> a fresh
 * Postgres database created for the run and dropped afterwards.
 *
 *   npm run bench:audit -- --duration 10
 *
 * Records are in the format the Lua scripts write (`e` = JSON), in the mix a match produces: per
 * match 10 transitions (2 enqueue, 2 matched, 2 joined, 2 to DISCONNECTING, 2 requeue), plus
 * match_created, match_connected and match_ended: 13 records, 3 of them touching the matches row.
 * Phases:
 *   1. max: the outbox is filled with more records than the drain can take in --duration
 *      seconds, then drained for --duration seconds -> rows/s sustained (records committed / s);
 *   2. lag: a producer (a child process) XADDs --rate records/s (open loop, every 5 ms) for
 *      --duration seconds while the drain runs -> drain lag p50/p99: from the XADD (the stream id's time, Redis
 *      clock) to the commit in Postgres (the drain's afterCommit hook, same host clock).
 * The last stdout line is the JSON result.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { OutboxDrain, type DrainOptions } from '../server/audit/drain';
import type { OutboxRecord } from '../server/audit/records';
import { streamIdTime } from '../server/audit/records';
import { migrate, openDatabase, type Database } from '../server/infra/postgres';
import { Keys } from '../server/state/keys';
import { benchArgs } from './lib/args';
import { machine, printResult, printTable, progress } from './lib/report';
import { uniquePrefix, unlinkPrefix } from './lib/redis';
import { LatencyRecorder, round } from './lib/stats';

const args = benchArgs('audit', {
  rate: { default: 8000, help: 'offered records/s in the lag phase' },
  batch: { default: 1000, help: 'drain batch (OUTBOX_BATCH)' },
  block: { default: 200, help: 'drain XREADGROUP BLOCK ms (OUTBOX_BLOCK_MS)' },
  fillRate: { default: 40_000, help: 'records pre-filled per second of --duration for the max phase' },
  redis: { default: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', help: 'Redis URL' },
  postgres: { default: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', help: 'admin URL; a database is created there' },
});

const POOL = 'global';
const log = pino({ level: 'silent' });

/** Records of one match, as the scripts write them. */
function matchRecords(n: number, t: number, epoch: string): OutboxRecord[] {
  let k = 0;
  const id = () => `${POOL}-${epoch}-${n}-${k++}`;
  const mid = `m${epoch}${n}`;
  const [a, b] = [`u${(n * 2) % 50_000}`, `u${(n * 2 + 1) % 50_000}`];
  const tr = (userId: string, from: string, to: string, reason: string, matchId: string | null, version: number): OutboxRecord => ({
    kind: 'transition',
    eventId: id(),
    pool: POOL,
    at: t,
    userId,
    from,
    to,
    reason,
    matchId,
    actor: null,
    version,
  });
  return [
    tr(a, 'IDLE', 'WAITING', 'enqueue', null, 1),
    tr(b, 'IDLE', 'WAITING', 'enqueue', null, 1),
    tr(a, 'WAITING', 'CONNECTING', 'matched', mid, 2),
    tr(b, 'WAITING', 'CONNECTING', 'matched', mid, 2),
    { kind: 'match_created', eventId: id(), pool: POOL, at: t, matchId: mid, userA: a, userB: b, mode: 'direct', waitedA: 1200, waitedB: 300 },
    tr(a, 'CONNECTING', 'IN_CALL', 'both_joined', mid, 3),
    tr(b, 'CONNECTING', 'IN_CALL', 'both_joined', mid, 3),
    { kind: 'match_connected', eventId: id(), pool: POOL, at: t, matchId: mid },
    tr(a, 'IN_CALL', 'DISCONNECTING', 'skip', mid, 4),
    tr(b, 'IN_CALL', 'DISCONNECTING', 'partner_skip', mid, 4),
    tr(a, 'DISCONNECTING', 'WAITING', 'requeue', mid, 5),
    tr(b, 'DISCONNECTING', 'WAITING', 'requeue_front', mid, 5),
    { kind: 'match_ended', eventId: id(), pool: POOL, at: t, matchId: mid, reason: 'skip', endedBy: a },
  ];
}

/** An endless stream of records, match after match. */
function recordSource(epoch: string) {
  let n = 0;
  let buf: OutboxRecord[] = [];
  return (): OutboxRecord => {
    if (buf.length === 0) buf = matchRecords(n++, Date.now(), epoch).reverse();
    return buf.pop()!;
  };
}

async function xadd(redis: Redis, key: string, next: () => OutboxRecord, count: number): Promise<void> {
  const pipe = redis.pipeline();
  for (let i = 0; i < count; i++) pipe.xadd(key, '*', 'e', JSON.stringify(next()));
  await pipe.exec();
}

function drainOptions(): DrainOptions {
  return { batch: args.batch, blockMs: args.block, claimIdleMs: 30_000, maxDeliveries: 5 };
}

async function maxPhase(db: Database, redis: Redis, drainConn: Redis, keys: Keys) {
  const fill = Math.ceil(args.fillRate * args.duration);
  progress(`max: filling the outbox with ${fill.toLocaleString('en-US')} records...`);
  const next = recordSource(randomBytes(3).toString('hex'));
  for (let left = fill; left > 0; left -= 5000) await xadd(redis, keys.outbox(POOL), next, Math.min(5000, left));
  let committed = 0;
  const drain = new OutboxDrain(drainConn, db.db, keys, async () => [POOL], drainOptions(), log, {
    onBatch: (rows) => void (committed += rows),
  });
  progress(`max: draining for ${args.duration} s...`);
  const start = performance.now();
  drain.start();
  const deadline = start + args.duration * 1000;
  while (performance.now() < deadline && committed < fill) await sleep(20);
  const elapsed = (performance.now() - start) / 1000;
  const done = committed;
  await drain.stop();
  const rowsPerSec = done / elapsed;
  progress(`max: ${done.toLocaleString('en-US')} records in ${elapsed.toFixed(2)} s`);
  // Leave an empty outbox for the next phase.
  await redis.del(keys.outbox(POOL));
  return { fill, committed: done, elapsedSec: round(elapsed), rowsPerSec: Math.round(rowsPerSec) };
}

async function lagPhase(db: Database, drainConn: Redis, keys: Keys) {
  const lag = new LatencyRecorder();
  const drain = new OutboxDrain(drainConn, db.db, keys, async () => [POOL], drainOptions(), log, {
    afterCommit: (_pool, entries) => {
      const now = Date.now();
      for (const e of entries) lag.record(now - streamIdTime(e.streamId));
    },
  });
  drain.start();
  progress(`lag: offering ${args.rate} records/s for ${args.duration} s (producer in a child process)...`);
  // The producer runs in its own process, as the state scripts run in Redis on behalf of other
  // processes: the drain's event loop is not the producer's.
  const job: ProducerJob = { redis: args.redis, key: keys.outbox(POOL), rate: args.rate, durationSec: args.duration, epoch: randomBytes(3).toString('hex') };
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, AUDIT_BENCH_PRODUCER: JSON.stringify(job) } });
  const [report] = (await once(child, 'message')) as [{ sent: number; maxBehind: number }];
  const deadline = Date.now() + 30_000;
  while (lag.count < report.sent && Date.now() < deadline) await sleep(10);
  await drain.stop();
  const s = lag.summary();
  return {
    offered: args.rate,
    sent: report.sent,
    committed: lag.count,
    p50Ms: s.p50Ms,
    p90Ms: s.p90Ms,
    p99Ms: s.p99Ms,
    maxMs: s.maxMs,
    producerMaxBehind: report.maxBehind,
  };
}

interface ProducerJob {
  redis: string;
  key: string;
  rate: number;
  durationSec: number;
  epoch: string;
}

/** Open loop: every 5 ms, XADD (pipelined) every record due by then. */
async function producer(job: ProducerJob): Promise<void> {
  const redis = new Redis(job.redis, { protocol: 2, maxRetriesPerRequest: 1 });
  const next = recordSource(job.epoch);
  const start = performance.now();
  let sent = 0;
  let maxBehind = 0;
  const inFlight = new Set<Promise<void>>();
  while (performance.now() - start < job.durationSec * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * job.rate);
    maxBehind = Math.max(maxBehind, due - sent);
    if (due > sent) {
      const p = xadd(redis, job.key, next, due - sent).finally(() => inFlight.delete(p));
      inFlight.add(p);
      sent = due;
    }
    await sleep(5);
  }
  await Promise.all(inFlight);
  redis.disconnect();
  process.send?.({ sent, maxBehind });
  process.disconnect?.();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main() {
  const dbName = `rvbench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: args.postgres });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName} TEMPLATE template0`);
  const url = new URL(args.postgres);
  url.pathname = `/${dbName}`;
  const prefix = uniquePrefix('bench-audit');
  const keys = new Keys(prefix);
  const redis = new Redis(args.redis, { protocol: 2, maxRetriesPerRequest: 1 });
  const drainConn = new Redis(args.redis, { protocol: 2, maxRetriesPerRequest: 1 });
  const db = await openDatabase(url.toString(), '.');
  try {
    await migrate(db);
    const max = await maxPhase(db, redis, drainConn, keys);
    await db.exec('TRUNCATE state_transitions, matches');
    const lag = await lagPhase(db, drainConn, keys);
    printTable('Machine', [{ ...machine(), redis: args.redis, postgres: args.postgres, batch: args.batch }]);
    printTable('Max drain rate (pre-filled outbox)', [max]);
    printTable(`Drain lag at ${args.rate} records/s offered (XADD -> committed in Postgres, ms)`, [
      { ...lag, p50Ms: round(lag.p50Ms), p90Ms: round(lag.p90Ms), p99Ms: round(lag.p99Ms), maxMs: round(lag.maxMs) },
    ]);
    printResult({ rowsPerSec: max.rowsPerSec, lagP50Ms: round(lag.p50Ms), lagP99Ms: round(lag.p99Ms) });
  } finally {
    await db.close().catch(() => undefined);
    await unlinkPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    drainConn.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

if (process.env.AUDIT_BENCH_PRODUCER) await producer(JSON.parse(process.env.AUDIT_BENCH_PRODUCER) as ProducerJob);
else await main();
