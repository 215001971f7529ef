/**
 * What an operator can be told. The refusals (signed out, role, origin, failed login) are
 * counted at the edge like any refusal, not handed to error recovery: anyone can cause them.
 */
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
    super("That name and password don't match an operator account.");
  }
}

export class SignedOutError extends OperatorRefusal {
  readonly code = 'OPERATOR_SIGNED_OUT';
  readonly httpCode = 'UNAUTHORIZED';
  constructor() {
    super('Please sign in to the operator console.');
  }
}

export class RoleRequiredError extends OperatorRefusal {
  readonly code = 'ROLE_REQUIRED';
  readonly httpCode = 'FORBIDDEN';
  constructor(readonly need: OperatorRole) {
    super("Your operator role doesn't allow that.", { need });
  }
}

/** A mutation sent by a page of another site (CSRF). */
export class OriginRefusedError extends OperatorRefusal {
  readonly code = 'ORIGIN_REFUSED';
  readonly httpCode = 'FORBIDDEN';
  constructor() {
    super('That request came from another site and was refused.');
  }
}

export class AdminTokenRequiredError extends OperatorRefusal {
  readonly code = 'ADMIN_TOKEN_REQUIRED';
  readonly httpCode = 'UNAUTHORIZED';
  constructor() {
    super("Creating the first admin needs the server's admin token.");
  }
}

export class BootstrapClosedError extends DomainError {
  readonly code = 'BOOTSTRAP_CLOSED';
  readonly httpCode = 'CONFLICT';
  constructor() {
    super('An admin already exists. Ask an admin to create your account.');
  }
}

export class OperatorNameTakenError extends DomainError {
  readonly code = 'OPERATOR_NAME_TAKEN';
  readonly httpCode = 'CONFLICT';
  constructor() {
    super('An operator with that name already exists.');
  }
}

export class OperatorNotFoundError extends DomainError {
  readonly code = 'OPERATOR_NOT_FOUND';
  readonly httpCode = 'NOT_FOUND';
  constructor() {
    super('There is no operator with that id.');
  }
}

/** An admin disabling or demoting their own account could leave nobody to run the console. */
export class SelfChangeError extends DomainError {
  readonly code = 'CANNOT_CHANGE_SELF';
  readonly httpCode = 'CONFLICT';
  constructor() {
    super("You can't disable your own account or lower your own role. Ask another admin.");
  }
}

export class WrongPasswordError extends DomainError {
  readonly code = 'WRONG_PASSWORD';
  readonly httpCode = 'BAD_REQUEST';
  constructor() {
    super('Your current password is not right.');
  }
}

/** The action's record could not be written, so the action was not done: nothing runs unaudited. */
export class ActionNotRecordedError extends DomainError {
  readonly code = 'ACTION_NOT_RECORDED';
  readonly httpCode = 'SERVICE_UNAVAILABLE';
  constructor(cause: unknown) {
    super("We couldn't record this action, so it wasn't done. Please try again in a few seconds.", {}, { cause });
  }
}
