/**
 * Session tokens: `<payload>.<signature>`, both base64url. The payload is JSON
 * `{ sub, name, exp, age?, rules? }`; the signature is HMAC-SHA256 over the payload with SESSION_SECRET.
 * Pure functions: the clock and the secret are passed in.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SessionClaims {
  sub: string;
  name: string;
  exp: number;
  /** The person's age answer and the rules version they accepted (safety/age.ts); absent until given. */
  age?: 'adult' | 'minor';
  rules?: number;
}

export class InvalidTokenError extends Error {
  readonly code = 'INVALID_TOKEN';
  constructor(readonly reason: 'missing' | 'malformed' | 'forged' | 'expired') {
    super(reason === 'expired' ? 'Your session has expired. Please reload the page.' : 'Your session is not valid. Please reload the page.');
    this.name = 'InvalidTokenError';
  }
}

function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export function issueToken(claims: SessionClaims, secret: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${sign(payload, secret)}`;
}

export function verifyToken(token: string | null | undefined, secret: string, now: number): SessionClaims {
  if (!token) throw new InvalidTokenError('missing');
  const [payload, sig, extra] = token.split('.');
  if (!payload || !sig || extra !== undefined) throw new InvalidTokenError('malformed');
  const expected = Buffer.from(sign(payload, secret));
  const given = Buffer.from(sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new InvalidTokenError('forged');
  let claims: SessionClaims;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as SessionClaims;
  } catch {
    throw new InvalidTokenError('malformed');
  }
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw new InvalidTokenError('malformed');
  if (claims.exp <= now) throw new InvalidTokenError('expired');
  return claims;
}
