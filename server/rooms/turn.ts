/**
 * Per-user TURN credentials, by the "TURN REST API" scheme coturn implements with
 * `use-auth-secret` and `static-auth-secret` (draft-uberti-behave-turn-rest): the username is
 * `<expiry, unix seconds>:<userId>` and the password is base64(HMAC-SHA1(secret, username)).
 * The TURN server checks the password with the shared secret and refuses the username once its
 * expiry has passed, so a credential a stranger harvests from a page is theirs for one call's
 * length at most and names the user it was issued to. Nothing is stored: every matched user gets
 * their own, inside their own `matched` event (room-service.ts).
 */
import { createHmac } from 'node:crypto';
import type { IceServer } from './options';

export interface TurnSettings {
  /** turn: / turns: URLs of one TURN service (all sharing the secret). */
  urls: string[];
  secret: string;
  /** How long a credential is valid: the expected call length (a running allocation is refreshed with it). */
  ttlS: number;
}

/** The RTCIceServer entry for `userId`, valid for `ttlS` seconds from `nowMs`. */
export function turnServerFor(turn: TurnSettings, userId: string, nowMs: number): IceServer {
  const username = `${Math.floor(nowMs / 1000) + turn.ttlS}:${userId}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return { urls: turn.urls, username, credential };
}

/** True for a turn: or turns: URL (the ones that need credentials). */
export function isTurnUrl(url: string): boolean {
  return /^turns?:/i.test(url.trim());
}
