/**
 * The console's session cookie, `rdv_op`: HttpOnly (no script reads it), SameSite=Strict (no
 * other site's page sends it), Path=/, Max-Age the session's life, and Secure when the request
 * came over https (directly, or as the trusted proxy's X-Forwarded-Proto says): a console served
 * over plain http on localhost still works.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const OPERATOR_COOKIE = 'rdv_op';

/** What a procedure may do with the cookie (HTTP only; over WebSocket it is a no-op). */
export interface CookieJar {
  set(token: string, maxAgeMs: number): void;
  clear(): void;
}

export function cookieValue(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export function overHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  if (!trustProxy) return false;
  return (req.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0]?.trim() === 'https';
}

export function serializeCookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${OPERATOR_COOKIE}=${value}; Max-Age=${maxAgeS}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function cookieJar(res: ServerResponse, secure: boolean): CookieJar {
  const append = (cookie: string) => {
    const prev = res.getHeader('set-cookie');
    res.setHeader('set-cookie', [...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []), cookie]);
  };
  return {
    set: (token, maxAgeMs) => append(serializeCookie(token, Math.floor(maxAgeMs / 1000), secure)),
    clear: () => append(serializeCookie('', 0, secure)),
  };
}

export const noCookies: CookieJar = { set: () => {}, clear: () => {} };
