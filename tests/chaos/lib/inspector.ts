/**
 * Reads the system's state directly (own connections to the real Redis, or Redis Cluster, and
 * Postgres, never through the fault proxy): each user's resting state, the outbox backlog, each user's event
 * history, and the audit rows. Read-only.
 */
import { Cluster, Redis } from 'ioredis';
import pg from 'pg';
import { clusterNodes } from '../../../server/infra/redis';
import { Keys, DEFAULT_POOL } from '../../../server/state/keys';

/** Where the inspector reads Redis: one server, or a cluster through its nodes (`host:port,...`). */
export type RedisTarget = { url: string } | { clusterNodes: string };

// Short, so a reading taken while Redis (or a shard) is away fails and the next one is tried.
const READ_TIMEOUT_MS = 1000;
const RECONNECT_MS = 100;

function connect(target: RedisTarget): Redis | Cluster {
  const node = { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: READ_TIMEOUT_MS };
  if ('url' in target) return new Redis(target.url, { ...node, retryStrategy: () => RECONNECT_MS });
  // Reads from masters (a replica may lag the scripts it is read after); follows failovers and MOVED.
  return new Cluster(clusterNodes(target.clusterNodes.split(',')), {
    redisOptions: node,
    lazyConnect: true,
    scaleReads: 'master',
    clusterRetryStrategy: () => RECONNECT_MS,
    retryDelayOnFailover: RECONNECT_MS,
    retryDelayOnClusterDown: RECONNECT_MS,
    slotsRefreshTimeout: READ_TIMEOUT_MS,
  });
}

export interface StateEvent {
  uid: string;
  version: number;
  from: string;
  to: string;
  at: number;
}

export interface AuditRow {
  eventId: string;
  uid: string;
  version: number;
  to: string;
  at: number;
}

export interface Resting {
  ok: boolean;
  /** Users not at rest, each with why. */
  stuck: Array<{ uid: string; why: string }>;
}

const ACTIVE_SETS = ['WAITING', 'CONNECTING', 'IN_CALL', 'DISCONNECTING'] as const;

export class Inspector {
  readonly keys: Keys;
  private readonly redis: Redis | Cluster;

  constructor(
    redis: RedisTarget,
    prefix: string,
    private readonly databaseUrl: string,
  ) {
    this.keys = new Keys(prefix);
    this.redis = connect(redis);
    this.redis.on('error', () => undefined);
  }

  async pools(): Promise<string[]> {
    const p = await this.redis.smembers(this.keys.pools());
    return [...new Set([DEFAULT_POOL, ...p])];
  }

  /** Outbox entries not yet written to Postgres and acknowledged (acknowledged ones are deleted). */
  async backlog(): Promise<number> {
    let n = 0;
    for (const pool of await this.pools()) n += await this.redis.xlen(this.keys.outbox(pool));
    return n;
  }

  /** Outbox entries read but not yet acknowledged by drain consumers whose name starts with `prefix`. */
  async pendingOf(consumerPrefix: string): Promise<number> {
    let n = 0;
    for (const pool of await this.pools()) {
      const key = this.keys.outbox(pool);
      if ((await this.redis.exists(key)) === 0) continue;
      const summary = (await this.redis.xpending(key, 'audit').catch(() => null)) as [number, string, string, Array<[string, string]> | null] | null;
      for (const [consumer, count] of summary?.[3] ?? []) if (consumer.startsWith(consumerPrefix)) n += Number(count);
    }
    return n;
  }

  /** The transition records still in the outboxes (not yet in Postgres), as `<user>|<version>|<at>`. */
  async undrainedTransitions(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const pool of await this.pools()) {
      for (const [, fields] of await this.redis.xrange(this.keys.outbox(pool), '-', '+')) {
        const r = JSON.parse(fields[1] ?? '{}') as { kind?: string; userId?: string; version?: number; at?: number };
        if (r.kind === 'transition') out.add(`${r.userId}|${r.version}|${r.at}`);
      }
    }
    return out;
  }

  /**
   * Resting: IDLE (or no data: the app reads that as IDLE), WAITING in the queue, or one half of a
   * consistent CONNECTING/IN_CALL pair (both name each other and the same live match). The user's
   * sorted-set membership must agree with the hash.
   */
  async resting(uids: string[]): Promise<Resting> {
    const stuck: Resting['stuck'] = [];
    const views = new Map<string, { h: Record<string, string>; pool: string; sets: string[] }>();
    for (const uid of uids) {
      const pool = (await this.redis.get(this.keys.userPool(uid))) ?? DEFAULT_POOL;
      const h = await this.redis.hgetall(this.keys.user(pool, uid));
      const sets: string[] = [];
      for (const s of ACTIVE_SETS) if ((await this.redis.zscore(this.keys.state(pool, s), uid)) !== null) sets.push(s);
      views.set(uid, { h, pool, sets });
    }
    for (const uid of uids) {
      const { h: v, pool, sets } = views.get(uid)!;
      const state = v.state ?? 'IDLE';
      const active = ACTIVE_SETS.includes(state as never);
      if (sets.length > (active ? 1 : 0) || (active && sets[0] !== state)) {
        stuck.push({ uid, why: `${state} but in sets [${sets.join(',')}]` });
        continue;
      }
      if (state === 'IDLE' || state === 'WAITING') continue;
      if (state === 'DISCONNECTING') {
        stuck.push({ uid, why: 'DISCONNECTING' });
        continue;
      }
      const partner = v.matchedWith ? (views.get(v.matchedWith)?.h ?? (await this.user(v.matchedWith))) : null;
      const match = v.matchId ? await this.redis.hget(this.keys.match(pool, v.matchId), 'status') : null;
      const pairOk =
        partner !== null &&
        (partner.state === 'CONNECTING' || partner.state === 'IN_CALL') &&
        partner.matchId === v.matchId &&
        partner.matchedWith === uid &&
        match !== null &&
        match !== 'ended';
      if (!pairOk)
        stuck.push({
          uid,
          why: `${state} in match ${v.matchId ?? '-'} (status ${match ?? 'none'}) with ${v.matchedWith ?? '-'} in ${partner?.state ?? 'none'}`,
        });
    }
    return { ok: stuck.length === 0, stuck };
  }

  private async user(uid: string): Promise<Record<string, string>> {
    const pool = (await this.redis.get(this.keys.userPool(uid))) ?? DEFAULT_POOL;
    return this.redis.hgetall(this.keys.user(pool, uid));
  }

  /** The `state` events in a user's history, in every pool. */
  async history(uid: string): Promise<StateEvent[]> {
    const out: StateEvent[] = [];
    for (const pool of await this.pools()) {
      for (const [, fields] of await this.redis.xrange(this.keys.events(pool, uid), '-', '+')) {
        const e = JSON.parse(fields[1] ?? '{}') as { type?: string; version?: number; from?: string; to?: string; at?: number };
        if (e.type === 'state') out.push({ uid, version: e.version!, from: e.from!, to: e.to!, at: e.at! });
      }
    }
    return out;
  }

  /** Every state_transitions row (the database belongs to this scenario). */
  async transitions(): Promise<AuditRow[]> {
    const rows = await this.query<{ event_id: string; user_id: string; version: number; to_state: string; at_ms: string }>(
      'select event_id, user_id, version, to_state, (extract(epoch from at) * 1000)::bigint as at_ms from state_transitions',
    );
    return rows.map((r) => ({ eventId: r.event_id, uid: r.user_id, version: r.version, to: r.to_state, at: Number(r.at_ms) }));
  }

  /** A read-only query on the audit database. */
  async query<T extends object>(text: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<T>(text)).rows;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}
