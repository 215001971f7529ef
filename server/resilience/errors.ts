/**
 * The errors the recovery framework itself names: the three critical kinds it acts on (data
 * inconsistency, security violation, system failure). Each has a stable `code`, a
 * message written for a person, a marker property and an `isXError()` guard (cockatiel's style:
 * the guard still works across module copies, where `instanceof` would not).
 */

/** Data disagrees with itself beyond what the repair scripts can fix: pause the pool, call a person. */
export class DataInconsistencyError extends Error {
  readonly code = 'DATA_INCONSISTENT';
  readonly isDataInconsistencyError = true;
  constructor(
    readonly detail: string,
    readonly pool?: string,
    options?: { cause?: unknown },
  ) {
    super('Matching is paused while we fix a problem. Please try again in a minute.', options);
    this.name = 'DataInconsistencyError';
  }
}

/** A client did something only an attacker would (forged token, impersonation, tampering). */
export class SecurityViolationError extends Error {
  readonly code = 'SECURITY_VIOLATION';
  readonly isSecurityViolationError = true;
  constructor(
    readonly detail: string,
    readonly userId?: string,
    options?: { cause?: unknown },
  ) {
    super('Your session was ended for security reasons. Please reload the page.', options);
    this.name = 'SecurityViolationError';
  }
}

/** The process cannot go on serving (lost its configuration, storage, or an invariant of its own). */
export class SystemFailureError extends Error {
  readonly code = 'SYSTEM_FAILURE';
  readonly isSystemFailureError = true;
  constructor(
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super("We're restarting a server. You'll be reconnected in a moment.", options);
    this.name = 'SystemFailureError';
  }
}

const marker =
  <T>(prop: string) =>
  (e: unknown): e is T =>
    typeof e === 'object' && e !== null && (e as Record<string, unknown>)[prop] === true;

export const isDataInconsistencyError = marker<DataInconsistencyError>('isDataInconsistencyError');
export const isSecurityViolationError = marker<SecurityViolationError>('isSecurityViolationError');
export const isSystemFailureError = marker<SystemFailureError>('isSystemFailureError');
