/**
 * What an attack may leave behind, read at each phase boundary: the server's resident memory
 * (/proc, nothing asked of the server), Redis' used_memory, the keys under the bench's prefix
 * (SCAN, never KEYS) and the server's Redis pub/sub channels (`<prefix>:{p:<pool>}:n:<uid>`, one per user
 * with a live subscription on this process) with their subscriber count.
 * On the shared Redis, used_memory includes other users'; `--redis private` isolates it.
 * Also the kernel's count of connections dropped because a listen queue was full (machine-wide:
 * a server too busy to accept makes new clients wait for SYN retransmits, 1 s and then 3 s).
 */
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { rssKb } from '../match/proc';

export interface Probe {
  /** null once the server process is gone. */
  rssMb: number | null;
  redisMemMb: number;
  keys: number;
  channels: number;
  subscribers: number;
  /** TcpExt ListenOverflows, all processes of this machine. */
  listenOverflows: number;
}

export const PROBE_POINTS = ['start', 'afterBaseline', 'afterAttack', 'afterCooldown'] as const;
export type ProbePoint = (typeof PROBE_POINTS)[number];

async function countKeys(redis: Redis, prefix: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
}

async function pubsub(redis: Redis, prefix: string): Promise<{ channels: number; subscribers: number }> {
  const channels = (await redis.pubsub('CHANNELS', `${prefix}:{p:*}:n:*`)) as string[];
  let subscribers = 0;
  for (let i = 0; i < channels.length; i += 1000) {
    const reply = (await redis.pubsub('NUMSUB', ...channels.slice(i, i + 1000))) as Array<string | number>;
    for (let j = 1; j < reply.length; j += 2) subscribers += Number(reply[j]);
  }
  return { channels: channels.length, subscribers };
}

function listenOverflows(): number {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith('TcpExt:'));
  const col = lines[i]?.split(' ').indexOf('ListenOverflows') ?? -1;
  return col < 0 ? NaN : Number(lines[i + 1]?.split(' ')[col]);
}

export async function probe(redis: Redis, prefix: string, pid: number): Promise<Probe> {
  let rss: number | null = null;
  try {
    const kb = rssKb(pid);
    if (Number.isFinite(kb)) rss = Math.round(kb / 102.4) / 10;
  } catch {
    // /proc/<pid> is gone: the server exited.
  }
  const mem = /used_memory:(\d+)/.exec(await redis.info('memory'));
  return {
    rssMb: rss,
    redisMemMb: Math.round(Number(mem?.[1] ?? NaN) / 104_857.6) / 10,
    keys: await countKeys(redis, prefix),
    ...(await pubsub(redis, prefix)),
    listenOverflows: listenOverflows(),
  };
}
