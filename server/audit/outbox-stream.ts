/**
 * The Redis side of the drain: thin wrappers over the stream commands of the `audit` consumer
 * group, with the reply shapes spelled out. No policy here; drain.ts decides what to call when.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { pipelineAcross, type Queued, type RedisClient } from '../infra/redis';
import { streamIdTime } from './records';

export const AUDIT_GROUP = 'audit';

export type RawEntry = [id: string, fields: string[]];
export interface Batch {
  pool: string;
  raw: RawEntry[];
}

/** Creates the group (from the start of the stream) unless it exists. */
export async function ensureGroup(redis: RedisClient, key: string): Promise<void> {
  try {
    await redis.xgroup('CREATE', key, AUDIT_GROUP, '0', 'MKSTREAM');
  } catch (e) {
    if (!String(e).includes('BUSYGROUP')) throw e;
  }
}

/**
 * XREADGROUP of new entries over several pools' streams at once. On a cluster each pool's stream
 * is read on its own (one slot each), all at once and without BLOCK (a blocked read would hold
 * its node's connection for the others); when none had anything, it waits `blockMs` instead.
 */
export async function readNew(
  redis: RedisClient,
  consumer: string,
  streams: Array<{ pool: string; key: string }>,
  count: number,
  blockMs: number,
): Promise<Batch[]> {
  if (redis instanceof Redis || streams.length === 0) return readGroup(redis, consumer, streams, count, blockMs);
  const batches = (await Promise.all(streams.map((s) => readGroup(redis, consumer, [s], count, 0)))).flat();
  if (batches.length === 0 && blockMs > 0) await sleep(blockMs);
  return batches;
}

async function readGroup(
  redis: RedisClient,
  consumer: string,
  streams: Array<{ pool: string; key: string }>,
  count: number,
  blockMs: number,
): Promise<Batch[]> {
  const keys = streams.map((s) => s.key);
  const args: Array<string | number> = ['GROUP', AUDIT_GROUP, consumer, 'COUNT', count];
  if (blockMs > 0) args.push('BLOCK', blockMs);
  args.push('STREAMS', ...keys, ...keys.map(() => '>'));
  const reply = (await redis.call('XREADGROUP', ...args)) as Array<[string, RawEntry[]]> | null;
  return (reply ?? []).filter(([, raw]) => raw.length > 0).map(([key, raw]) => ({ pool: streams[keys.indexOf(key)]?.pool ?? '', raw }));
}

/**
 * Entries already delivered to this consumer and not acknowledged (XREADGROUP from an id: its own
 * pending list after that id), up to `count`. Ownership and delivery counts are unchanged. Entries
 * deleted from the stream while pending come back without fields: left out.
 */
export async function readOwnPending(redis: RedisClient, consumer: string, key: string, after: string, count: number): Promise<RawEntry[]> {
  const reply = (await redis.call('XREADGROUP', 'GROUP', AUDIT_GROUP, consumer, 'COUNT', count, 'STREAMS', key, after)) as Array<[string, RawEntry[]]> | null;
  return (reply?.[0]?.[1] ?? []).filter((e) => Array.isArray(e[1]));
}

/** One XAUTOCLAIM page: entries idle at least `idleMs` become this consumer's. */
export async function claimIdle(
  redis: RedisClient,
  key: string,
  consumer: string,
  idleMs: number,
  cursor: string,
  count: number,
): Promise<{ next: string; entries: RawEntry[] }> {
  const r = (await redis.call('XAUTOCLAIM', key, AUDIT_GROUP, consumer, idleMs, cursor, 'COUNT', count)) as [string, Array<RawEntry | null>];
  // Redis 6.2 reports entries deleted from the stream as nil; 7.x lists them apart.
  return { next: r[0], entries: (r[1] ?? []).filter((e): e is RawEntry => Array.isArray(e)) };
}

/**
 * Delivery counts and owners from the group's pending list: shared by every consumer, kept across
 * restarts. An id that is not pending (acknowledged, or gone) is absent.
 */
export async function deliveryCounts(redis: RedisClient, key: string, ids: string[]): Promise<Map<string, { count: number; consumer: string }>> {
  const out = new Map<string, { count: number; consumer: string }>();
  if (ids.length === 0) return out;
  const pipe = redis.pipeline();
  for (const id of ids) pipe.xpending(key, AUDIT_GROUP, id, id, 1);
  const res = (await pipe.exec()) ?? [];
  res.forEach(([err, reply], i) => {
    if (err) throw err;
    const row = (reply as Array<[string, string, number, number]>)[0];
    if (row) out.set(ids[i]!, { count: Number(row[3]), consumer: row[1] });
  });
  return out;
}

/** XACK then XDEL in one MULTI: the only way entries ever leave the outbox. */
export async function ackAndDelete(redis: RedisClient, key: string, ids: string[]): Promise<void> {
  const res = await redis
    .multi()
    .xack(key, AUDIT_GROUP, ...ids)
    .xdel(key, ...ids)
    .exec();
  const failed = !res ? new Error('transaction aborted') : res.find(([err]) => err)?.[0];
  if (failed) throw new Error(`XACK of ${ids.length} outbox entries failed`, { cause: failed });
}

/** Age of the oldest entry still in the streams (acknowledged ones are deleted) and how many there are. */
export async function outboxLag(redis: RedisClient, keys: string[], now: number): Promise<{ lagMs: number; backlog: number }> {
  const res = await pipelineAcross(
    redis,
    keys.flatMap((k): Queued[] => [
      [k, (p) => p.xrange(k, '-', '+', 'COUNT', 1)],
      [k, (p) => p.xlen(k)],
    ]),
  );
  let oldest = Infinity;
  let backlog = 0;
  for (let i = 0; i < res.length; i += 2) {
    const first = (res[i]?.[1] as RawEntry[] | undefined)?.[0];
    if (first) oldest = Math.min(oldest, streamIdTime(first[0]));
    backlog += Number(res[i + 1]?.[1] ?? 0);
  }
  return { lagMs: oldest === Infinity ? 0 : Math.max(0, now - oldest), backlog };
}
