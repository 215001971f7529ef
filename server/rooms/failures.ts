/**
 * The pure classification of what a LiveKit RoomService call threw (the policy retries on it, the
 * room service falls back on it):
 *
 *   transient  transport errors (`TypeError: fetch failed`), timeouts, 408, 429, 5xx: retried
 *   permanent  any other 4xx (bad credentials, bad request): not retried, but still counted by
 *              the breaker, because a LiveKit we cannot use is down as far as calls go
 *   not_found  404: for DeleteRoom and RemoveParticipant it means "already done"
 *   unavailable the breaker is open or the bulkhead is full: no call was made
 */
import { isBrokenCircuitError, isBulkheadRejectedError, isIsolatedCircuitError } from 'cockatiel';

export type LiveKitFailure = 'transient' | 'permanent' | 'not_found' | 'unavailable';

export function classifyLiveKitError(err: unknown): LiveKitFailure {
  if (isBrokenCircuitError(err) || isIsolatedCircuitError(err) || isBulkheadRejectedError(err)) return 'unavailable';
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status === 'number') {
    if (status === 404) return 'not_found';
    if (status === 408 || status === 429 || status >= 500) return 'transient';
    if (status >= 400) return 'permanent';
  }
  return 'transient';
}

export function isUnavailable(err: unknown): boolean {
  return classifyLiveKitError(err) === 'unavailable';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
