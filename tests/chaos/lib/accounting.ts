/**
 * The audit accounting, pure: which committed transitions are missing from Postgres, and which
 * rows are there twice.
 *
 * Committed transitions come from three places: `state` events the clients received, the same
 * events still in the users' Redis histories (a state script writes the event, the outbox record
 * and the state change atomically, so an event exists iff its transition committed), and the
 * replies of acknowledged enqueue/cancel calls (user, new version, call window). An event is
 * matched to its row by (user, version, to, at): `at` is the script's clock in both, which keeps
 * the match exact even when a Redis that came back empty restarts a user's versions.
 */
import type { Ack } from './load';
import type { AuditRow, StateEvent } from './inspector';

export interface Accounting {
  /** Distinct committed transitions known. */
  committed: number;
  /** Missing from Postgres and not excused. */
  lost: number;
  /** Missing but excused by the scenario's stated guarantee (e.g. undrained when Redis lost its data). */
  excused: number;
  dupEventId: number;
  dupUserVersion: number;
  /** Rows sharing (user, version) within one event-id epoch (a data loss starts a new epoch). */
  dupUserVersionSameEpoch: number;
  /** Up to 5 missing transitions, for the notes. */
  missingSample: string[];
  /** Up to 5 groups of rows sharing (user, version), for the notes. */
  duplicateSample: string[];
}

/** What an excuse is asked about: a missing transition (an acknowledged call's `at` is its start). */
export interface Transition {
  uid: string;
  version: number;
  at: number;
}

const key = (uid: string, version: number, to: string, at: number) => `${uid}|${version}|${to}|${at}`;
/** Event ids are `<pool>-<epoch>-<seq>`; pool names may contain '-', so read from the right. */
const epochOf = (eventId: string) => eventId.split('-').at(-2) ?? '';

function extras(keys: string[]): number {
  const n = new Map<string, number>();
  for (const k of keys) n.set(k, (n.get(k) ?? 0) + 1);
  let extra = 0;
  for (const c of n.values()) extra += c - 1;
  return extra;
}

/** Times by `<user>|<version>`. */
function timesBy(xs: Array<{ uid: string; version: number; at: number }>): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const x of xs) {
    const k = `${x.uid}|${x.version}`;
    m.set(k, [...(m.get(k) ?? []), x.at]);
  }
  return m;
}

export function account(
  events: StateEvent[],
  acks: Ack[],
  rows: AuditRow[],
  excuse: (t: Transition) => boolean = () => false,
  users?: Set<string>,
): Accounting {
  const mine = users ? rows.filter((r) => users.has(r.uid)) : rows;
  const rowKeys = new Set(mine.map((r) => key(r.uid, r.version, r.to, r.at)));
  const committed = new Map<string, StateEvent>();
  for (const e of events) committed.set(key(e.uid, e.version, e.to, e.at), e);
  let lost = 0;
  let excused = 0;
  const missingSample: string[] = [];
  const miss = (what: string, t: Transition) => {
    if (excuse(t)) return void excused++;
    lost++;
    if (missingSample.length < 5) missingSample.push(what);
  };
  for (const [k, e] of committed) if (!rowKeys.has(k)) miss(`${e.uid.slice(0, 8)} v${e.version} ${e.from}->${e.to} at ${e.at}`, e);
  // An acknowledged call whose event nobody saw (a history lost with Redis, a client that had just moved).
  const inWindow = (a: Ack, at: number) => at >= a.t0 - 5 && at <= a.t1 + 5;
  const eventTimes = timesBy([...committed.values()]);
  const rowTimes = timesBy(mine);
  for (const a of acks) {
    const k = `${a.uid}|${a.version}`;
    if ((eventTimes.get(k) ?? []).some((at) => inWindow(a, at))) continue;
    if (!(rowTimes.get(k) ?? []).some((at) => inWindow(a, at)))
      miss(`${a.uid.slice(0, 8)} ${a.op} -> v${a.version} (acknowledged)`, { uid: a.uid, version: a.version, at: a.t0 });
  }
  const byUserVersion = new Map<string, AuditRow[]>();
  for (const r of mine) byUserVersion.set(`${r.uid}|${r.version}`, [...(byUserVersion.get(`${r.uid}|${r.version}`) ?? []), r]);
  const duplicateSample = [...byUserVersion.values()]
    .filter((g) => g.length > 1)
    .slice(0, 5)
    .map((g) => `${g[0]!.uid.slice(0, 8)} v${g[0]!.version}: ${g.map((r) => `${r.eventId}->${r.to}@${r.at}`).join(', ')}`);
  return {
    duplicateSample,
    committed: committed.size,
    lost,
    excused,
    dupEventId: extras(mine.map((r) => r.eventId)),
    dupUserVersion: extras(mine.map((r) => `${r.uid}|${r.version}`)),
    dupUserVersionSameEpoch: extras(mine.map((r) => `${r.uid}|${r.version}|${epochOf(r.eventId)}`)),
    missingSample,
  };
}
