/**
 * What the state and match levels of recovery decide, as data. `matchFallback` is the match
 * level's graceful degradation, pure (the manager carries it out):
 *   LiveKit failing            -> direct (peer-to-peer) calls instead of the video relay
 *   call set-up failed, room gone, partner dropped -> back to the queue
 *   pair inconsistent          -> roll the match back, then back to the queue
 *   our store or network away  -> "we're reconnecting", try again later
 *   critical                   -> pause the pool / end the session / shut down
 *   the person's own mistake   -> just tell them
 */
import { isDependencyFailure } from './classify';
import type { UserCode, UserMessage } from './messages';
import { ErrorType, Strategy, type Classification, type Dependency } from './model';

export type StateConflict =
  /** A compare-and-set lost a race (VERSION_CONFLICT); `attempt` counts from 1. */
  | { kind: 'version'; subject: string; attempt: number; pool?: string }
  /** Two users' records disagree about their match. */
  | { kind: 'pair'; subject: string; pool?: string; detail?: string }
  /** Data the repair scripts cannot fix. */
  | { kind: 'corruption'; subject: string; pool: string; detail: string };

export type Resolution =
  | { action: 'retry'; delayMs: number }
  | { action: 'give_up'; notice: UserMessage }
  | { action: 'rolled_back'; notice: UserMessage }
  | { action: 'paused'; pool: string | null; notice: UserMessage };

export interface MatchErrorContext {
  pool?: string;
  matchId?: string;
  userId?: string;
  /** The dependency the failing call went to (LiveKit for room calls). */
  dependency?: Dependency;
}

export type MatchAction = 'direct_mode' | 'requeue' | 'retry_later' | 'pause_pool' | 'end_session' | 'shutdown' | 'none';

/** The seed's FallbackAction: what happens to the people in the match, and what they are told. */
export interface FallbackAction {
  action: MatchAction;
  notice: UserMessage;
}

export interface MatchPlan {
  action: MatchAction;
  /** The message to show; undefined: the error's own code's message. */
  notice?: UserCode;
  /** The match carries on in a lesser form (recorded as a fallback). */
  degraded: boolean;
}

export function matchFallback(c: Classification, dependency?: Dependency): MatchPlan {
  if (c.strategy === Strategy.PausePool) return { action: 'pause_pool', notice: 'MATCHING_PAUSED', degraded: false };
  if (c.strategy === Strategy.EndSession) return { action: 'end_session', notice: 'SECURITY_VIOLATION', degraded: false };
  if (c.strategy === Strategy.Shutdown) return { action: 'shutdown', notice: 'SERVER_RESTARTING', degraded: false };
  const livekitDown = isDependencyFailure(c) && (dependency === 'livekit' || c.type === ErrorType.Livekit);
  if (livekitDown) return { action: 'direct_mode', notice: 'VIDEO_RELAY_UNAVAILABLE', degraded: true };
  if (c.strategy === Strategy.Rollback) return { action: 'requeue', degraded: true };
  if (c.type === ErrorType.Room) return { action: 'requeue', degraded: true };
  if (isDependencyFailure(c)) return { action: 'retry_later', notice: 'SERVICE_UNAVAILABLE', degraded: false };
  return { action: 'none', degraded: false };
}
