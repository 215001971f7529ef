/**
 * RoomRecords: the Redis side of rooms. Every key of a room lives under its pool's hash tag, next
 * to the match it belongs to, so one Redis Cluster slot holds a pool's rooms too.
 *
 *   <root>:{p:<pool>}:room:<name>        hash  room, pool, matchId, a, b, status, createdAt, updatedAt,
 *                                              endReason, deleteAttempts, lastError
 *   <root>:{p:<pool>}:rooms              zset  rooms not yet terminated (name -> created at)
 *   <root>:{p:<pool>}:room-deletes       zset  deletions pending (name -> next attempt at)
 *   <root>:{p:<pool>}:room-departures    zset  "<room>|<uid>" -> when to check a participant who left
 *   <root>:rpool:<name>                  string the pool of a room (webhooks and LiveKit name rooms only)
 *
 * Status changes go through one compare-and-set script (scripts/set-status-3.lua) so the index
 * and the deletion queue always agree with the record.
 */
import type { RedisClient } from '../infra/redis';
import type { Clock } from '../shared/clock';
import type { Keys } from '../state/keys';
import type { Scripts } from '../state/scripts';

export const ROOM_STATUSES = ['creating', 'active', 'terminating', 'terminated'] as const;
export type RoomStatus = (typeof ROOM_STATUSES)[number];

export interface RoomRecord {
  room: string;
  pool: string;
  matchId: string;
  a: string;
  b: string;
  status: RoomStatus;
  createdAt: number;
  updatedAt: number;
  endReason: string | null;
  deleteAttempts: number;
  lastError: string | null;
}

export class RoomRecords {
  constructor(
    private readonly redis: RedisClient,
    private readonly scripts: Scripts,
    readonly keys: Keys,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  record(pool: string, room: string): string {
    return `${this.keys.poolPrefix(pool)}room:${room}`;
  }
  index(pool: string): string {
    return `${this.keys.poolPrefix(pool)}rooms`;
  }
  deletes(pool: string): string {
    return `${this.keys.poolPrefix(pool)}room-deletes`;
  }
  departures(pool: string): string {
    return `${this.keys.poolPrefix(pool)}room-departures`;
  }
  private roomPool(room: string): string {
    return `${this.keys.root}:rpool:${room}`;
  }

  /** A new record (status creating) for a room about to be created; written before LiveKit is asked. */
  async create(r: { room: string; pool: string; matchId: string; a: string; b: string }): Promise<void> {
    await this.redis.set(this.roomPool(r.room), r.pool, 'PX', this.ttlMs);
    await this.setStatus(r.pool, r.room, 'creating', ['none'], { ...r, createdAt: this.clock.now() });
  }

  async get(pool: string, room: string): Promise<RoomRecord | null> {
    const h = await this.redis.hgetall(this.record(pool, room));
    return h.status ? toRecord(h) : null;
  }

  /** The pool a room belongs to, or null for a room we never made (or long forgotten). */
  poolOf(room: string): Promise<string | null> {
    return this.redis.get(this.roomPool(room));
  }

  /**
   * Compare-and-set the status. `from` lists the statuses it may move from ('none': no record).
   * Returns whether it applied, and the status before.
   */
  async setStatus(
    pool: string,
    room: string,
    to: RoomStatus,
    from: Array<RoomStatus | 'none'>,
    fields: Record<string, string | number> = {},
    deleteAt = 0,
  ): Promise<{ applied: boolean; previous: RoomStatus | 'none' }> {
    const [ok, previous] = await this.scripts.call<[number, string]>(
      'rooms_set_status',
      [this.record(pool, room), this.index(pool), this.deletes(pool)],
      [this.clock.now(), this.ttlMs, room, to, from.join(','), JSON.stringify(fields), deleteAt],
    );
    return { applied: ok === 1, previous: previous as RoomStatus | 'none' };
  }

  /** A deletion attempt failed: count it and schedule the next one. Returns the attempt count. */
  async deleteFailed(pool: string, room: string, error: string, nextAt: (attempts: number) => number): Promise<number> {
    const attempts = await this.redis.hincrby(this.record(pool, room), 'deleteAttempts', 1);
    await this.redis
      .multi()
      .hset(this.record(pool, room), 'lastError', error.slice(0, 500), 'updatedAt', this.clock.now())
      .zadd(this.deletes(pool), 'XX', nextAt(attempts), room)
      .exec();
    return attempts;
  }

  /** Takes a room off its pool's deletion queue (its deletion was parked as a dead letter). */
  async unqueueDeletion(pool: string, room: string): Promise<void> {
    await this.redis.zrem(this.deletes(pool), room);
  }

  /** Claim due items of a queue (deletions or departures) for `leaseMs`. */
  claimDue(queue: string, leaseMs: number, batch = 100): Promise<string[]> {
    return this.scripts.call<string[]>('rooms_claim_due', [queue], [this.clock.now(), leaseMs, batch]);
  }

  /** Rooms of a pool not yet terminated, oldest first. */
  async indexed(pool: string, offset: number, limit: number): Promise<string[]> {
    return this.redis.zrange(this.index(pool), String(offset), String(offset + limit - 1));
  }

  /** Many records at once (null where missing). */
  async many(pool: string, rooms: string[]): Promise<Array<RoomRecord | null>> {
    if (rooms.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const r of rooms) pipe.hgetall(this.record(pool, r));
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, h]) => (!err && h && (h as Record<string, string>).status ? toRecord(h as Record<string, string>) : null));
  }

  /** Forget an index entry whose record is gone. */
  async unindex(pool: string, room: string): Promise<void> {
    await this.redis.zrem(this.index(pool), room);
  }

  /** Check on `uid` in `room` at `at`, unless a check is already scheduled. */
  async scheduleDeparture(pool: string, room: string, uid: string, at: number): Promise<void> {
    await this.redis.zadd(this.departures(pool), 'NX', at, `${room}|${uid}`);
  }

  async cancelDeparture(pool: string, room: string, uid: string): Promise<void> {
    await this.redis.zrem(this.departures(pool), `${room}|${uid}`);
  }
}

function toRecord(h: Record<string, string>): RoomRecord {
  return {
    room: h.room ?? '',
    pool: h.pool ?? '',
    matchId: h.matchId ?? '',
    a: h.a ?? '',
    b: h.b ?? '',
    status: (ROOM_STATUSES as readonly string[]).includes(h.status ?? '') ? (h.status as RoomStatus) : 'terminated',
    createdAt: Number(h.createdAt ?? 0),
    updatedAt: Number(h.updatedAt ?? 0),
    endReason: h.endReason ?? null,
    deleteAttempts: Number(h.deleteAttempts ?? 0),
    lastError: h.lastError ?? null,
  };
}
