/**
 * What the full-call driver counts. Plain numbers and string-keyed maps, so a snapshot can cross
 * an IPC channel and two snapshots can be subtracted (`diffCounters`) to get a window's share.
 */
import type { FrameCounter } from './connection';

export interface FlowCounters {
  /** Calls completed: both sides reached IN_CALL and the leaving side's skip/end succeeded. */
  calls: number;
  skips: number;
  ends: number;
  /** match.enqueue calls that succeeded. */
  enqueues: number;
  /** `matched` events received (two per match when both sides are there to get theirs). */
  matchedEvents: number;
  /**
   * Matches made while one of the pair was absent: the generator had closed that person's socket
   * before the match (by the server's clock, the event's `at`) and had not reconnected it, and
   * (when the driver can ask Redis, FullCallOptions.droppedAt) the server had marked them absent
   * before the match, or cannot say when it did.
   */
  ghostMatches: number;
  /**
   * Matches made after the generator closed a socket but before the server read the close: the
   * server marked that person absent only after the match (their hash's droppedAt is later than
   * the match's `at`). The close was still on its way; no matching rule can see it.
   */
  closesInFlight: number;
  /**
   * Of those, the ones whose socket closed less than 10 ms, and less than 100 ms, before the
   * match: the server may not have processed the close yet (a race no matching rule can win).
   */
  ghostMatchesWithin10Ms: number;
  ghostMatchesWithin100Ms: number;
  /** Matches whose call never reached IN_CALL on this side (partner absent, timed out). */
  abandoned: number;
  /** Sockets closed on purpose: while waiting in the queue, and during a call. */
  dropsWaiting: number;
  dropsInCall: number;
  /** Absent people who came back (same user, resumed subscription), and those who never will. */
  reconnects: number;
  gone: number;
  /** Failed calls (or connections) of people and calls that no absence touched. */
  errors: number;
  lastError: string;
  /** Failed calls explained by an absence: the caller or the partner dropped during this match, or the caller resumed a moment ago. */
  absenceRaces: number;
  /** Calls cut off by the generator closing their socket (no answer can come). */
  aborted: number;
  /** tRPC messages sent, by procedure path. */
  sent: Record<string, number>;
  /** tRPC messages received: `reply <path>` for answers, `event <type>` for match.events. */
  received: Record<string, number>;
  frames: FrameCounter;
}

export function emptyCounters(): FlowCounters {
  return {
    calls: 0,
    skips: 0,
    ends: 0,
    enqueues: 0,
    matchedEvents: 0,
    ghostMatches: 0,
    closesInFlight: 0,
    ghostMatchesWithin10Ms: 0,
    ghostMatchesWithin100Ms: 0,
    abandoned: 0,
    dropsWaiting: 0,
    dropsInCall: 0,
    reconnects: 0,
    gone: 0,
    errors: 0,
    lastError: '',
    absenceRaces: 0,
    aborted: 0,
    sent: {},
    received: {},
    frames: { sent: 0, received: 0 },
  };
}

export function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function diffMap(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - (a[k] ?? 0)]));
}

/** What happened between snapshot `a` and the later snapshot `b` (lastError is b's). */
export function diffCounters(a: FlowCounters, b: FlowCounters): FlowCounters {
  const out: FlowCounters = { ...b };
  for (const k of Object.keys(b) as Array<keyof FlowCounters>) {
    const v = b[k];
    if (typeof v === 'number') (out[k] as number) = v - (a[k] as number);
  }
  out.sent = diffMap(a.sent, b.sent);
  out.received = diffMap(a.received, b.received);
  out.frames = { sent: b.frames.sent - a.frames.sent, received: b.frames.received - a.frames.received };
  return out;
}

/** A deep copy (the driver keeps counting into the original). */
export function copyCounters(c: FlowCounters): FlowCounters {
  return { ...c, sent: { ...c.sent }, received: { ...c.received }, frames: { ...c.frames } };
}
