/**
 * What an operator can be told. The refusals (signed out, role, origin, failed login) are
 * counted at the edge like any refusal, not handed to error recovery: anyone can cause them.
 */
import { USER_MESSAGES } from '../resilience/messages';
import { DomainError } from '../state/errors';
import type { OperatorRole } from './schema';

/** Marker for the refusals above (trpc.ts counts them instead of recovering from them). */
export abstract class OperatorRefusal extends DomainError {
  readonly operatorRefusal = true;
}

export function isOperatorRefusal(e: unknown): e is OperatorRefusal {
  return e instanceof OperatorRefusal;
}

/** Wrong name or wrong password: one answer for both, so a name cannot be probed. */
export class LoginFailedError extends OperatorRefusal {
  readonly code = 'LOGIN_FAILED';
  readonly httpCode = 'UNAUTHORIZED';
  constructor() {
    super(USER_MESSAGES.LOGIN_FAILED);
  }
}

export class SignedOutError extends OperatorRefusal {
  readonly code = 'OPERATOR_SIGNED_OUT';
  readonly httpCode = 'UNAUTHORIZED';
  constructor() {
    super(USER_MESSAGES.OPERATOR_SIGNED_OUT);
  }
}

export class RoleRequiredError extends OperatorRefusal {
  readonly code = 'ROLE_REQUIRED';
  readonly httpCode = 'FORBIDDEN';
  constructor(readonly need: OperatorRole) {
    super(USER_MESSAGES.ROLE_REQUIRED, { need });
  }
}

/** A mutation sent by a page of another site (CSRF). */
export class OriginRefusedError extends OperatorRefusal {
  readonly code = 'ORIGIN_REFUSED';
  readonly httpCode = 'FORBIDDEN';
  constructor() {
    super(USER_MESSAGES.ORIGIN_REFUSED);
  }
}

export class AdminTokenRequiredError extends OperatorRefusal {
  readonly code = 'ADMIN_TOKEN_REQUIRED';
  readonly httpCode = 'UNAUTHORIZED';
  constructor() {
    super(USER_MESSAGES.ADMIN_TOKEN_REQUIRED);
  }
}

export class BootstrapClosedError extends DomainError {
  readonly code = 'BOOTSTRAP_CLOSED';
  readonly httpCode = 'CONFLICT';
  constructor() {
    super(USER_MESSAGES.BOOTSTRAP_CLOSED);
  }
}

export class OperatorNameTakenError extends DomainError {
  readonly code = 'OPERATOR_NAME_TAKEN';
  readonly httpCode = 'CONFLICT';
  constructor() {
    super(USER_MESSAGES.OPERATOR_NAME_TAKEN);
  }
}

export class OperatorNotFoundError extends DomainError {
  readonly code = 'OPERATOR_NOT_FOUND';
  readonly httpCode = 'NOT_FOUND';
  constructor() {
    super(USER_MESSAGES.OPERATOR_NOT_FOUND);
  }
}

/** An admin disabling or demoting their own account could leave nobody to run the console. */
export class SelfChangeError extends DomainError {
  readonly code = 'CANNOT_CHANGE_SELF';
  readonly httpCode = 'CONFLICT';
  constructor() {
    super(USER_MESSAGES.CANNOT_CHANGE_SELF);
  }
}

export class WrongPasswordError extends DomainError {
  readonly code = 'WRONG_PASSWORD';
  readonly httpCode = 'BAD_REQUEST';
  constructor() {
    super(USER_MESSAGES.WRONG_PASSWORD);
  }
}

/** The action's record could not be written, so the action was not done: nothing runs unaudited. */
export class ActionNotRecordedError extends DomainError {
  readonly code = 'ACTION_NOT_RECORDED';
  readonly httpCode = 'SERVICE_UNAVAILABLE';
  constructor(cause: unknown) {
    super(USER_MESSAGES.ACTION_NOT_RECORDED, {}, { cause });
  }
}
