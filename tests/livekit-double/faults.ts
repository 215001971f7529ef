/**
 * Failure injection and call counting for the RoomService endpoints.
 *
 * Each incoming Twirp call consumes at most one rule of each kind, matched by
 * method name or '*': first a delay, then a drop (socket destroyed without an
 * HTTP answer, which fetch surfaces as `TypeError: fetch failed`), then a
 * failure (a Twirp JSON error with the given HTTP status).
 */

export const ROOM_SERVICE_METHODS = ['CreateRoom', 'DeleteRoom', 'ListRooms', 'ListParticipants', 'RemoveParticipant', 'UpdateRoomMetadata'] as const;
export type RoomServiceMethod = (typeof ROOM_SERVICE_METHODS)[number];
export type MethodTarget = RoomServiceMethod | '*';

/** Twirp error code for an HTTP status, as twirp's ServerHTTPStatusFromErrorCode inverts. */
export function twirpCodeForStatus(status: number): string {
  const codes: Record<number, string> = {
    400: 'invalid_argument',
    401: 'unauthenticated',
    403: 'permission_denied',
    404: 'not_found',
    408: 'deadline_exceeded',
    409: 'already_exists',
    412: 'failed_precondition',
    429: 'resource_exhausted',
    500: 'internal',
    501: 'unimplemented',
    503: 'unavailable',
  };
  return codes[status] ?? (status >= 500 ? 'internal' : 'unknown');
}

interface Rule {
  target: MethodTarget;
  remaining: number;
}
interface FailRule extends Rule {
  status: number;
  msg: string;
}
interface DelayRule extends Rule {
  ms: number;
}

export interface FaultDecision {
  delayMs: number;
  drop: boolean;
  fail?: { status: number; code: string; msg: string };
}

function take<T extends Rule>(rules: T[], method: RoomServiceMethod): T | undefined {
  const rule = rules.find((r) => r.remaining > 0 && (r.target === method || r.target === '*'));
  if (rule) rule.remaining -= 1;
  return rule;
}

export class FaultInjector {
  private fails: FailRule[] = [];
  private delays: DelayRule[] = [];
  private drops: Rule[] = [];
  private readonly counts = new Map<RoomServiceMethod, number>();

  /** Fail the next `times` calls of `method` with a Twirp error of `status`. */
  failNext(method: MethodTarget, times = 1, status = 503, msg = 'injected failure'): void {
    this.fails.push({ target: method, remaining: times, status, msg });
  }

  /** Fail every call of `method` until clearFaults(). */
  failAlways(method: MethodTarget, status = 503, msg = 'injected failure'): void {
    this.failNext(method, Number.POSITIVE_INFINITY, status, msg);
  }

  /** Hold the answer of the next `times` calls for `ms` milliseconds. */
  delay(method: MethodTarget, ms: number, times = Number.POSITIVE_INFINITY): void {
    this.delays.push({ target: method, remaining: times, ms });
  }

  /** Destroy the socket of the next `times` calls without answering. */
  dropNext(method: MethodTarget, times = 1): void {
    this.drops.push({ target: method, remaining: times });
  }

  dropAlways(method: MethodTarget): void {
    this.dropNext(method, Number.POSITIVE_INFINITY);
  }

  clearFaults(): void {
    this.fails = [];
    this.delays = [];
    this.drops = [];
  }

  /** Number of requests that reached `method` (faulted ones included). */
  calls(method: MethodTarget): number {
    if (method !== '*') return this.counts.get(method) ?? 0;
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  resetCalls(): void {
    this.counts.clear();
  }

  /** Records a call and consumes the rules that apply to it. */
  decide(method: RoomServiceMethod): FaultDecision {
    this.counts.set(method, this.calls(method) + 1);
    const delay = take(this.delays, method);
    const drop = take(this.drops, method);
    const fail = drop ? undefined : take(this.fails, method);
    return {
      delayMs: delay?.ms ?? 0,
      drop: drop !== undefined,
      ...(fail ? { fail: { status: fail.status, code: twirpCodeForStatus(fail.status), msg: fail.msg } } : {}),
    };
  }
}
