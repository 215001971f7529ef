/**
 * Minimal HS256 JWT signing and verification (node:crypto only).
 *
 * LiveKit API keys are HS256 JWTs: header {"alg":"HS256"}, `iss` = API key,
 * `exp`/`nbf` in unix seconds, grants in a `video` claim (camelCase keys:
 * roomCreate, roomList, roomAdmin, roomJoin, room). Webhooks carry the same
 * kind of token with a `sha256` claim instead of grants.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface VideoGrant {
  roomCreate?: boolean;
  roomList?: boolean;
  roomAdmin?: boolean;
  roomJoin?: boolean;
  room?: string;
  canPublish?: boolean;
  canSubscribe?: boolean;
  canPublishData?: boolean;
  hidden?: boolean;
  [key: string]: unknown;
}

export interface LiveKitClaims {
  iss?: string;
  sub?: string;
  exp?: number;
  nbf?: number;
  name?: string;
  metadata?: string;
  sha256?: string;
  video?: VideoGrant;
  [key: string]: unknown;
}

export class JwtError extends Error {
  override name = 'JwtError';
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

export function signJwt(claims: LiveKitClaims, secret: string): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

export interface VerifyOptions {
  /** Expected `iss` (the API key). */
  issuer: string;
  secret: string;
  /** Seconds of skew accepted on exp/nbf. */
  clockToleranceSec: number;
  nowSec?: number;
}

/** Verifies signature, issuer, exp (required) and nbf; returns the claims. */
export function verifyJwt(token: string, opts: VerifyOptions): LiveKitClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('token is not a compact JWS');
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  let header: { alg?: unknown };
  let claims: LiveKitClaims;
  try {
    header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as { alg?: unknown };
    claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as LiveKitClaims;
  } catch {
    throw new JwtError('token is not valid JSON');
  }
  if (header.alg !== 'HS256') throw new JwtError(`unsupported alg ${String(header.alg)}`);
  if (claims.iss !== opts.issuer) throw new JwtError(`invalid API key: ${String(claims.iss)}`);
  const expected = createHmac('sha256', opts.secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new JwtError('signature is invalid');
  }
  const now = opts.nowSec ?? Math.floor(Date.now() / 1000);
  if (typeof claims.exp !== 'number') throw new JwtError('exp claim is required');
  if (now - opts.clockToleranceSec >= claims.exp) throw new JwtError('token is expired');
  if (typeof claims.nbf === 'number' && now + opts.clockToleranceSec < claims.nbf) {
    throw new JwtError('token is not valid yet');
  }
  return claims;
}
