/**
 * The soak's "no growth" check, pure: the state left once the load has stopped and every retention
 * window has passed, against the baseline taken before the load began.
 *
 * - Redis keys of people and calls (`<kind>:<id>`): every kind but match records back to at most
 *   the baseline count, and no more of them without an expiry. Match records are kept 24 h after
 *   they are made (`matchTtl`, hard-coded in server/state/store.ts), longer than any soak: they are
 *   reported on their own and must all carry an expiry.
 * - Keys of a pool or of the app (`<kind>` alone: one per kind and pool, so their count is bounded
 *   by the pools configured): their entries (queue sets, presence sets, deadlines, the outbox)
 *   back to at most the baseline's, `matchlog` and `pools:active` apart (bounded: BOUNDED_STRUCTURES).
 * - Pub/sub: subscribers (PUBSUB NUMSUB over every channel) and patterns back to the baseline.
 * - The audit outbox: empty (everything reached Postgres).
 * - Per server slot (a restarted process is compared with its slot's first baseline): timers,
 *   sockets and the heap after a full collection within a slack of the baseline (see the constants).
 */

export interface ProcessState {
  slot: number;
  timers: number;
  sockets: number;
  /** V8 heap used after a full collection (gc() twice), MiB. */
  heapUsedMiB: number;
}

export interface StateSnapshot {
  /** DBSIZE. */
  keys: number;
  /** Keys of one person or call (`<kind>:<id>`: user, ev, evb, op, recent, upool, match, ...), by kind. */
  keysByKind: Record<string, number>;
  /** Of those, the keys without an expiry (TTL -1), by kind. */
  persistentByKind: Record<string, number>;
  /** Keys of a pool or of the whole app (`<kind>` alone: seen, state, deadlines, outbox, ...): their entries (members, items; 0 for a string), by kind. */
  structureEntries: Record<string, number>;
  subscribers: number;
  channels: number;
  patterns: number;
  outboxBacklog: number;
  processes: ProcessState[];
}

export interface Check {
  name: string;
  /** Redis-side checks can be read at any time; process checks need the servers' own readings. */
  scope: 'redis' | 'process';
  baseline: number;
  end: number;
  limit: number;
  pass: boolean;
}

export interface Verdict {
  pass: boolean;
  checks: Check[];
}

/** Kept 24 h by server/state/store.ts (not configurable): outside the key-count check. */
export const MATCH_KIND = 'match';
/**
 * Pool and app keys whose entries have a bound of their own, outside the entries check:
 * `matchlog` (recent match times for wait estimates, LTRIM'd to 100: server/state/scripts/match-lib.lua)
 * and `pools:active` (one entry per pool that had users, so at most the configured pools:
 * server/state/active-pools.ts).
 */
export const BOUNDED_STRUCTURES = new Set(['matchlog', 'pools:active']);
// An idle pg pool client holds a socket and an idle timer for 30 s (server/infra/postgres.ts, pool
// max 10): whether they are open at either reading is timing, not growth.
export const SOCKET_SLACK = 10;
export const TIMER_SLACK = 10;
// A heap after a full collection still holds compiled code and caches that warm up with the first
// calls of each kind (the baseline is taken before any call): a leak of one object per call of a
// 30-minute run (tens of thousands of calls) is far beyond this.
export const HEAP_SLACK_MIB = 16;

/** Keys of the app with a fixed name after a `:` (server/presence/cleanup.ts, server/state/active-pools.ts). */
const APP_KEYS = new Set(['lock:cleanup', 'pools:active']);
/** Pool keys named `<kind>:<name>` that are one per name, not per person: the sorted set of each state. */
const POOL_SETS = new Set(['state']);

/**
 * A key's kind, and whether it belongs to one person or call (`<kind>:<id>`) rather than to a pool
 * or the app (`<kind>` alone): `<root>:{p:<pool>}:<kind>[:<id>]` or `<root>:<kind>[:<id>]`
 * (server/state/keys.ts), e.g. `user`, `ev`, `match`, `op`, `upool`; `seen`, `outbox`, `pools`.
 */
export function keyShape(key: string, root: string): { kind: string; entity: boolean } {
  let rest = key.startsWith(`${root}:`) ? key.slice(root.length + 1) : key;
  if (APP_KEYS.has(rest)) return { kind: rest, entity: false };
  if (rest.startsWith('{')) rest = rest.slice(rest.indexOf('}') + 2);
  const colon = rest.indexOf(':');
  if (colon < 0) return { kind: rest, entity: false };
  const kind = rest.slice(0, colon);
  return POOL_SETS.has(kind) ? { kind: rest, entity: false } : { kind, entity: true };
}

const total = (byKind: Record<string, number>, except?: string) => Object.entries(byKind).reduce((n, [k, v]) => (k === except ? n : n + v), 0);

export function checkGrowth(baseline: StateSnapshot, end: StateSnapshot): Verdict {
  const checks: Check[] = [];
  const add = (name: string, b: number, e: number, limit: number, scope: Check['scope'] = 'redis') =>
    checks.push({ name, scope, baseline: b, end: e, limit, pass: e <= limit });
  const keysBefore = total(baseline.keysByKind, MATCH_KIND);
  add('keys of people and calls (match records apart)', keysBefore, total(end.keysByKind, MATCH_KIND), keysBefore);
  const persistentBefore = total(baseline.persistentByKind, MATCH_KIND);
  add('of them, keys without expiry', persistentBefore, total(end.persistentByKind, MATCH_KIND), persistentBefore);
  add('match records without expiry', baseline.persistentByKind[MATCH_KIND] ?? 0, end.persistentByKind[MATCH_KIND] ?? 0, 0);
  const entries = (o: Record<string, number>) => Object.entries(o).reduce((n, [k, v]) => (BOUNDED_STRUCTURES.has(k) ? n : n + v), 0);
  const entriesBefore = entries(baseline.structureEntries);
  add('entries in pool sets, lists and streams (bounded ones apart)', entriesBefore, entries(end.structureEntries), entriesBefore);
  add('pub/sub subscribers', baseline.subscribers, end.subscribers, baseline.subscribers);
  add('pub/sub patterns', baseline.patterns, end.patterns, baseline.patterns);
  add('audit outbox backlog', baseline.outboxBacklog, end.outboxBacklog, 0);
  for (const before of baseline.processes) {
    const after = end.processes.find((p) => p.slot === before.slot);
    if (!after) throw new GrowthCheckError(`no end reading for server slot ${before.slot}`);
    add(`server ${before.slot}: timers`, before.timers, after.timers, before.timers + TIMER_SLACK, 'process');
    add(`server ${before.slot}: sockets`, before.sockets, after.sockets, before.sockets + SOCKET_SLACK, 'process');
    add(
      `server ${before.slot}: heap used after GC, MiB`,
      round1(before.heapUsedMiB),
      round1(after.heapUsedMiB),
      round1(before.heapUsedMiB + HEAP_SLACK_MIB),
      'process',
    );
  }
  return { pass: checks.every((c) => c.pass), checks };
}

export class GrowthCheckError extends Error {
  readonly code = 'SOAK_GROWTH_CHECK';
}

/** Least-squares slope of y over x (per unit of x); 0 with fewer than two distinct x. */
export function slope(points: Array<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  if (sxx === 0) return 0;
  return points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
