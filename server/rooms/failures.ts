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
import { classify } from '../resilience/classify';
import { Category } from '../resilience/model';

export type LiveKitFailure = 'transient' | 'permanent' | 'not_found' | 'unavailable';

/** The shared classification (server/resilience/classify.ts), read for a RoomService call. */
export function classifyLiveKitError(err: unknown): LiveKitFailure {
  const c = classify(err, { dependency: 'livekit' });
  if (c.rule === 'breaker open' || c.rule === 'bulkhead full') return 'unavailable';
  // For DeleteRoom and RemoveParticipant a 404 means "already done", whatever the classification says.
  if ((err as { status?: unknown } | null)?.status === 404) return 'not_found';
  // An error nothing recognizes is taken for a transport failure: LiveKit calls fail in many shapes.
  if (c.category === Category.Transient || c.rule === 'unknown') return 'transient';
  return 'permanent';
}

export function isUnavailable(err: unknown): boolean {
  return classifyLiveKitError(err) === 'unavailable';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
