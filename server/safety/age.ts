/**
 * Age policy. Before their first Start a person gives an age bracket and accepts the rules; the
 * answer is carried in their session token (`age`, `rules`), so every process knows it without a
 * lookup. Under-13s are always refused. Under-18s are refused unless ALLOW_MINORS, and then they
 * are only ever matched with other under-18s: their pools are separate pools (`u18-<pool>`), so
 * no matching step, on any process, can ever pair them with an adult.
 */
import { DomainError } from '../state/errors';

/** The version of the rules a person accepts (bump it when the rules change: everyone accepts again). */
export const RULES_VERSION = 1;
export const AGE_BRACKETS = ['under-13', '13-17', '18+'] as const;
export type AgeBracket = (typeof AGE_BRACKETS)[number];
/** Who a person may be matched with. */
export type Audience = 'adult' | 'minor';

/** What the session token carries once a person has answered. */
export interface Consent {
  age: Audience;
  rules: number;
}

/** An adult who accepted the current rules (what load tools and tests mint into tokens). */
export const ADULT_CONSENT: Consent = { age: 'adult', rules: RULES_VERSION };

export class AgeNotAllowedError extends DomainError {
  readonly code = 'AGE_NOT_ALLOWED';
  readonly httpCode = 'FORBIDDEN';
  constructor(minorsAllowed: boolean) {
    super(minorsAllowed ? 'Rendezvous is for people aged 13 and over.' : 'Rendezvous is for adults (18 and over).');
  }
}

export class ConsentRequiredError extends DomainError {
  readonly code = 'CONSENT_REQUIRED';
  readonly httpCode = 'PRECONDITION_FAILED';
  constructor() {
    super('Please tell us your age and accept the rules before you start.', { rulesVersion: RULES_VERSION });
  }
}

/** The audience of a person who gave `bracket`, or refused. */
export function audienceFor(bracket: AgeBracket, minorsAllowed: boolean): Audience {
  if (bracket === '18+') return 'adult';
  if (bracket === '13-17' && minorsAllowed) return 'minor';
  throw new AgeNotAllowedError(minorsAllowed);
}

/** The audience a session may start in: its consent, for the current rules, else refused. */
export function audienceOf(consent: Partial<Consent>): Audience {
  if ((consent.age !== 'adult' && consent.age !== 'minor') || consent.rules !== RULES_VERSION) throw new ConsentRequiredError();
  return consent.age;
}

/**
 * The pool a person uses for a chosen pool: minors have pools of their own, and so have people
 * on low trust (safety/sanctions.ts), each kept apart from everyone else.
 */
export function audiencePool(audience: Audience, pool: string, lowTrust = false): string {
  return `${audience === 'minor' ? 'u18-' : ''}${lowTrust ? 'lt-' : ''}${pool}`;
}
