/**
 * Operator passwords: argon2id (@node-rs/argon2) with the library's defaults (m = 19 MiB, t = 2,
 * p = 1: OWASP's recommended minimum for argon2id, about 25 ms here), stored as the PHC string,
 * which carries its own parameters, so raising them later leaves old hashes verifiable.
 */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

export const MIN_PASSWORD_LENGTH = 12;

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

/** False for a wrong password or a malformed hash; never throws for either. */
export async function passwordMatches(stored: string, password: string): Promise<boolean> {
  return verify(stored, password).catch(() => false);
}

/**
 * A hash of a random password, verified against when a sign-in names no operator, so that answer
 * takes as long as a wrong password. Made once at start, not on the first unknown name (which
 * would then be slower, and tell).
 */
export function decoyHash(): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'));
}
