/**
 * Redis key layout. Every key a script touches for a pool carries the pool's hash tag
 * (`{p:<pool>}`), so a pool lives in one Redis Cluster slot and the same Lua runs on a cluster.
 *
 *   <root>:{p:<pool>}:user:<uid>          hash   state, previousState, lastStateChange, version, ...
 *   <root>:{p:<pool>}:state:<state>       zset   users in a state, scored by time entered
 *                                                (WAITING: queue position; front-of-queue re-queues
 *                                                get a score just ahead of the first)
 *   <root>:{p:<pool>}:match:<mid>         hash   both users, queue scores, status, times
 *   <root>:{p:<pool>}:deadlines           zset   CONNECTING deadlines by match id
 *   <root>:{p:<pool>}:outbox              stream audit events, drained to Postgres
 *   <root>:{p:<pool>}:ev:<uid>            stream the user's event history (resume source)
 *   <root>:{p:<pool>}:evb:<uid>           string its size in bytes (bounded by EVENT_HISTORY_MAX_BYTES)
 *   <root>:{p:<pool>}:recent:<uid>        zset   recent partners (people met: both reached IN_CALL, or one skipped/ended)
 *   <root>:{p:<pool>}:seen / :grace       zset   last sign of life per user / when a dropped user's grace runs out
 *   <root>:{p:<pool>}:lobby               zset   waiting users who are present, by queue score (what matching scans and positions count)
 *   <root>:{p:<pool>}:blocks:<uid>        set    users this user blocked (mirror of Postgres)
 *   <root>:{p:<pool>}:op:<opId>           string idempotency record of a mutation
 *   <root>:{p:<pool>}:epoch / :seq        string event-id epoch and sequence (on a cluster, 'R' .. epoch while the pool is rebuilt)
 *   <root>:lost                           string when a cluster pool's data was last found lost (pool-epochs.ts)
 *   <root>:upool:<uid>                    string the pool a user is in now
 *   <root>:blocks:<uid> / blockedby:<uid> set    pool-independent block records (copied into pools)
 *   <root>:pools                          set    every pool that has been used
 *   <root>:{p:<pool>}:n:<uid>             channel: the user's new events in this pool, or a bare pool name (they moved there);
 *                                         SPUBLISH/SSUBSCRIBE on a cluster (it stays on the pool's shard), else PUBLISH/SUBSCRIBE
 */
import { createHash } from 'node:crypto';
import type { State } from './states';
import { stateSetName } from './states';

export class Keys {
  constructor(readonly root: string) {}

  poolPrefix(pool: string): string {
    return `${this.root}:{p:${pool}}:`;
  }
  user(pool: string, uid: string): string {
    return `${this.poolPrefix(pool)}user:${uid}`;
  }
  state(pool: string, state: State): string {
    return `${this.poolPrefix(pool)}state:${stateSetName(state)}`;
  }
  match(pool: string, mid: string): string {
    return `${this.poolPrefix(pool)}match:${mid}`;
  }
  /** The present waiting users, by queue score. */
  lobby(pool: string): string {
    return `${this.poolPrefix(pool)}lobby`;
  }
  /** The pool's name index entry for a display name (enqueue-2.lua writes it; admin.lookup reads it). */
  names(pool: string, name: string): string {
    return `${this.poolPrefix(pool)}names:${nameIndexKey(name)}`;
  }

  /** The pool's event-id epoch: exists whenever the pool's data does (lib.lua). */
  epoch(pool: string): string {
    return `${this.poolPrefix(pool)}epoch`;
  }
  deadlines(pool: string): string {
    return `${this.poolPrefix(pool)}deadlines`;
  }
  outbox(pool: string): string {
    return `${this.poolPrefix(pool)}outbox`;
  }
  events(pool: string, uid: string): string {
    return `${this.poolPrefix(pool)}ev:${uid}`;
  }
  /** The byte count of the user's event history (EVENT_HISTORY_MAX_BYTES). */
  eventBytes(pool: string, uid: string): string {
    return `${this.poolPrefix(pool)}evb:${uid}`;
  }
  blocks(pool: string, uid: string): string {
    return `${this.poolPrefix(pool)}blocks:${uid}`;
  }
  /** Pool-independent block records (the source movePool copies into a pool's sets). */
  blocksOf(uid: string): string {
    return `${this.root}:blocks:${uid}`;
  }
  blockedBy(uid: string): string {
    return `${this.root}:blockedby:${uid}`;
  }
  userPool(uid: string): string {
    return `${this.root}:upool:${uid}`;
  }
  /** On a cluster: when a pool's data was last found lost (for the version floors of every process). */
  lost(): string {
    return `${this.root}:lost`;
  }
  pools(): string {
    return `${this.root}:pools`;
  }
  /** The channel of `uid`'s notifications while they are in `pool` (in the pool's slot: sharded pub/sub on a cluster). */
  notify(pool: string, uid: string): string {
    return `${this.poolPrefix(pool)}n:${uid}`;
  }
  /** Channel: a user id per message, whose sockets every process closes (session revoked). */
  revocations(): string {
    return `${this.root}:revocations`;
  }
}

/** Pool names are part of keys: keep them to a safe alphabet. */
export const POOL_NAME = /^[a-z0-9][a-z0-9_-]{0,40}$/;
export const DEFAULT_POOL = 'global';

/**
 * A display name as the pool's name index knows it (`<pool prefix>names:<this>`, written by
 * enqueue-2.lua, read by admin.lookup): case-insensitive, hashed to a bounded key part.
 */
export function nameIndexKey(name: string): string {
  return createHash('sha256').update(name.trim().toLowerCase()).digest('base64url').slice(0, 22);
}
