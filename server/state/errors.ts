/**
 * Named domain errors of the state machine. Each carries a stable `code` and a message written
 * for a person; the tRPC edge maps them onto TRPCError codes.
 */
import { USER_MESSAGES } from '../resilience/messages';
import type { State } from './states';

export abstract class DomainError extends Error {
  abstract readonly code: string;
  /** The tRPC error code this maps to at the router edge. */
  abstract readonly httpCode:
    | 'BAD_REQUEST'
    | 'UNAUTHORIZED'
    | 'CONFLICT'
    | 'NOT_FOUND'
    | 'FORBIDDEN'
    | 'PRECONDITION_FAILED'
    | 'TOO_MANY_REQUESTS'
    | 'INTERNAL_SERVER_ERROR'
    | 'SERVICE_UNAVAILABLE';
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }
}

export class InvalidTransitionError extends DomainError {
  readonly code = 'INVALID_TRANSITION';
  readonly httpCode = 'CONFLICT';
  constructor(
    readonly from: State,
    readonly to: State,
  ) {
    super(`That isn't possible right now: you are ${label(from)}, and ${label(to)} can't follow that.`, { from, to });
  }
}

export class WrongStateError extends DomainError {
  readonly code = 'WRONG_STATE';
  readonly httpCode = 'PRECONDITION_FAILED';
  constructor(
    readonly current: State,
    readonly allowed: readonly State[],
    readonly action: string,
  ) {
    super(`You can't ${action} while ${label(current)}.`, { current, allowed, action });
  }
}

export class VersionConflictError extends DomainError {
  readonly code = 'VERSION_CONFLICT';
  readonly httpCode = 'CONFLICT';
  constructor(expected: number, actual: number) {
    super('Something changed at the same time; please try again.', { expected, actual });
  }
}

export class NotInMatchError extends DomainError {
  readonly code = 'NOT_IN_MATCH';
  readonly httpCode = 'PRECONDITION_FAILED';
  /** `state`: the user's state when the script refused, when known (not shown to the user). */
  constructor(readonly state?: State) {
    super("You're not in a conversation right now.");
  }
}

export class StoreUnavailableError extends DomainError {
  readonly code = 'SERVICE_UNAVAILABLE';
  readonly httpCode = 'SERVICE_UNAVAILABLE';
  constructor(cause: unknown) {
    super("We're reconnecting to our servers. Please try again in a few seconds.", { retryAfterMs: 2000 }, { cause });
  }
}

/** A WebRTC signal in a text-only match (the textOnly kill switch): there is no call to set up. */
export class TextOnlyError extends DomainError {
  readonly code = 'TEXT_ONLY';
  readonly httpCode = 'PRECONDITION_FAILED';
  constructor() {
    super(USER_MESSAGES.TEXT_ONLY);
  }
}

/**
 * A bound on what one client can make grow (README, "Limits and hostile clients"): the request is
 * refused whole and nothing changes. `code` says which bound; the message is for a person.
 */
export type LimitCode = 'UNSUPPORTED_POOL' | 'TOO_MANY_SIGNALS' | 'TOO_MANY_BLOCKS' | 'TOO_MANY_SUBSCRIPTIONS' | 'TOO_MANY_CONNECTIONS' | 'BATCH_TOO_LARGE';

export class LimitExceededError extends DomainError {
  readonly httpCode = 'BAD_REQUEST';
  constructor(
    readonly code: LimitCode,
    details: Record<string, unknown> = {},
  ) {
    super(USER_MESSAGES[code], details);
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}

function label(s: State): string {
  return s.toLowerCase().replace('_', ' ');
}
