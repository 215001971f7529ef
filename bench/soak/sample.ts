/**
 * One reading of the system: each server's /metrics (memory, timers, sockets), the private Redis
 * (used_memory, DBSIZE, pub/sub), and the audit lag (how many records wait in the outboxes and
 * the age of the oldest, read the way the drain reads it: server/audit/outbox-stream.ts). A part
 * that does not answer (a paused Redis, a killed server) reads as null, and the reading goes on.
 * Also the end check's exact readings: a key census (kind and expiry of every key) and each
 * server's heap after a full collection.
 */
import type { Redis } from 'ioredis';
import { outboxLag } from '../../server/audit/outbox-stream';
import { DEFAULT_POOL, type Keys } from '../../server/state/keys';
import { keyShape, type ProcessState, type StateSnapshot } from './growth';
import { parseProcessFigures, type ProcessFigures } from './metrics-text';
import type { Slot } from './system';

const SCRAPE_TIMEOUT_MS = 3000;

export interface RedisFigures {
  usedMemoryMiB: number;
  keys: number;
  /** Channels with a subscriber, subscribers over all of them (PUBSUB NUMSUB), patterns (NUMPAT). */
  channels: number;
  subscribers: number;
  patterns: number;
}

export interface AuditFigures {
  backlog: number;
  oldestMs: number;
}

export interface Reading {
  processes: Array<{ slot: number; figures: ProcessFigures | null }>;
  redis: RedisFigures | null;
  audit: AuditFigures | null;
}

export async function scrapeProcess(url: string): Promise<ProcessFigures | null> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    return res.ok ? parseProcessFigures(await res.text()) : null;
  } catch {
    return null;
  }
}

async function pubsub(redis: Redis): Promise<Pick<RedisFigures, 'channels' | 'subscribers' | 'patterns'>> {
  const channels = (await redis.call('PUBSUB', 'CHANNELS', '*')) as string[];
  let subscribers = 0;
  for (let i = 0; i < channels.length; i += 500) {
    const counts = (await redis.call('PUBSUB', 'NUMSUB', ...channels.slice(i, i + 500))) as Array<string | number>;
    for (let j = 1; j < counts.length; j += 2) subscribers += Number(counts[j]);
  }
  return { channels: channels.length, subscribers, patterns: Number(await redis.call('PUBSUB', 'NUMPAT')) };
}

export async function redisFigures(redis: Redis): Promise<RedisFigures> {
  const memory = await redis.info('memory');
  return {
    usedMemoryMiB: Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? NaN) / 1024 ** 2,
    keys: await redis.dbsize(),
    ...(await pubsub(redis)),
  };
}

export async function auditFigures(redis: Redis, keys: Keys): Promise<AuditFigures> {
  const pools = [...new Set([DEFAULT_POOL, ...(await redis.smembers(keys.pools()))])];
  const { lagMs, backlog } = await outboxLag(
    redis,
    pools.map((p) => keys.outbox(p)),
    Date.now(),
  );
  return { backlog, oldestMs: lagMs };
}

const orNull = <T>(p: Promise<T>): Promise<T | null> => p.catch(() => null);

export async function read(slots: Slot[], redis: Redis, keys: Keys): Promise<Reading> {
  const [processes, r, audit] = await Promise.all([
    Promise.all(slots.map(async (s) => ({ slot: s.index, figures: s.child ? await scrapeProcess(s.url) : null }))),
    orNull(redisFigures(redis)),
    orNull(auditFigures(redis, keys)),
  ]);
  return { processes, redis: r, audit };
}

/** Every key's kind, expiry and, for pool and app keys, entries (the Redis is ours alone, so every key is the app's). */
export async function keyCensus(redis: Redis, root: string): Promise<Pick<StateSnapshot, 'keysByKind' | 'persistentByKind' | 'structureEntries'>> {
  const keysByKind: Record<string, number> = {};
  const persistentByKind: Record<string, number> = {};
  const structures: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    const pipe = redis.pipeline();
    for (const k of batch) pipe.pttl(k);
    const ttls = (await pipe.exec()) ?? [];
    batch.forEach((k, i) => {
      const { kind, entity } = keyShape(k, root);
      const ttl = Number(ttls[i]?.[1]);
      if (ttl === -2) return; // expired between SCAN and PTTL
      if (!entity) return void structures.push(k);
      keysByKind[kind] = (keysByKind[kind] ?? 0) + 1;
      if (ttl === -1) persistentByKind[kind] = (persistentByKind[kind] ?? 0) + 1;
    });
  } while (cursor !== '0');
  const structureEntries: Record<string, number> = {};
  for (const k of structures) {
    const kind = keyShape(k, root).kind;
    structureEntries[kind] = (structureEntries[kind] ?? 0) + (await entriesOf(redis, k));
  }
  return { keysByKind, persistentByKind, structureEntries };
}

const SIZE_OF: Record<string, string> = { zset: 'ZCARD', set: 'SCARD', list: 'LLEN', stream: 'XLEN', hash: 'HLEN' };

async function entriesOf(redis: Redis, key: string): Promise<number> {
  const command = SIZE_OF[await redis.type(key)];
  return command ? Number(await redis.call(command, key)) : 0;
}

export interface LeftUser {
  key: string;
  state: string;
  previousState: string;
  /** Seconds since its last state change and since its last heartbeat. */
  changedSecAgo: number;
  heartbeatSecAgo: number;
  ttlSec: number;
}

/** User hashes still in Redis (after the settle: the ones that did not expire), at most `limit`, for the record. */
export async function leftUsers(redis: Redis, root: string, limit = 20): Promise<LeftUser[]> {
  const out: LeftUser[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${root}:{p:*}:user:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      if (out.length >= limit) break;
      const h = await redis.hgetall(key);
      const ago = (ms: string | undefined) => (ms ? Math.round((Date.now() - Number(ms)) / 1000) : NaN);
      out.push({
        key,
        state: h.state ?? '?',
        previousState: h.previousState ?? '?',
        changedSecAgo: ago(h.lastStateChange),
        heartbeatSecAgo: ago(h.lastHeartbeat),
        ttlSec: Math.round((await redis.pttl(key)) / 1000),
      });
    }
  } while (cursor !== '0' && out.length < limit);
  return out;
}

type Memory = { type: 'memory'; heapUsed: number; collected: boolean };

/** Timers and sockets from /metrics, the heap from the process itself after gc() (--expose-gc). */
export async function processState(slot: Slot): Promise<ProcessState> {
  if (!slot.child) throw new SampleError(`server slot ${slot.index} is not running`);
  const figures = await scrapeProcess(slot.url);
  if (!figures) throw new SampleError(`server slot ${slot.index}: /metrics did not answer`);
  slot.child.send({ type: 'memory', gc: true } as { type: string });
  const m = await slot.child.next<Memory>('memory', 30_000);
  if (!m.collected) throw new SampleError(`server slot ${slot.index} runs without --expose-gc`);
  return { slot: slot.index, timers: figures.timers, sockets: figures.sockets, heapUsedMiB: m.heapUsed / 1024 ** 2 };
}

export async function snapshot(slots: Slot[], redis: Redis, keys: Keys): Promise<StateSnapshot> {
  const census = await keyCensus(redis, keys.root);
  const dbsize = await redis.dbsize();
  const subs = await pubsub(redis);
  const audit = await auditFigures(redis, keys);
  const processes: ProcessState[] = [];
  for (const s of slots) processes.push(await processState(s));
  return { keys: dbsize, ...census, ...subs, outboxBacklog: audit.backlog, processes };
}

export class SampleError extends Error {
  readonly code = 'SOAK_SAMPLE';
}
