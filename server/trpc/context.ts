/** Request context: who is calling (from the session token, or an operator's cookie) and the services. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { TRPCError } from '@trpc/server';
import type { Consent } from '../safety/age';
import type { Services } from '../services';
import { clientAddress, originAllowed } from '../http/security';
import { OPERATOR_COOKIE, cookieJar, cookieValue, noCookies, overHttps, type CookieJar } from '../operators/cookie';
import type { OperatorIdentity } from '../operators/service';
import { InvalidTokenError, verifyToken } from '../session/token';

export interface Session {
  userId: string;
  name: string;
  /** When the token expires (epoch ms): a WebSocket authenticated with it is closed then. */
  expiresAt: number;
  /** The age answer and rules version the person gave (safety/age.ts), if they have. */
  consent: Partial<Consent>;
}

export interface Context {
  svc: Services;
  session: Session | null;
  /** The operator signed in with the `rdv_op` cookie (HTTP only), or null. */
  operator: OperatorIdentity | null;
  /** The cookie's token, for logout. */
  operatorToken: string | null;
  /** Sets or clears the operator cookie on this HTTP response. */
  cookies: CookieJar;
  /** False when the request carries an Origin of another site (operator mutations are refused then: CSRF). */
  sameOrigin: boolean;
  /** The request's `x-admin-token` equals ADMIN_TOKEN: it may create the first admin (operators.bootstrap), nothing else. */
  adminToken: boolean;
  /** The client's address (TRUST_PROXY decides whose word it is): for the per-address rate limits only. */
  ip: string;
}

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7) : null;
}

function isAdminToken(svc: Services, token: string | null | undefined): boolean {
  const want = svc.cfg.ADMIN_TOKEN;
  if (!want || !token) return false;
  const a = Buffer.from(want);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The session a token stands for; refused (UNAUTHORIZED) when missing, malformed, forged, expired or revoked. */
export async function sessionFrom(svc: Services, token: string | null | undefined): Promise<Session> {
  let session: Session;
  try {
    const c = verifyToken(token, svc.sessionSecret, svc.clock.now());
    session = { userId: c.sub, name: c.name, expiresAt: c.exp, consent: { age: c.age, rules: c.rules } };
  } catch (e) {
    if (e instanceof InvalidTokenError) throw new TRPCError({ code: 'UNAUTHORIZED', message: e.message, cause: e });
    throw e;
  }
  // A session ended for a security violation stays ended (tokens are stateless, so a short deny list).
  if (await svc.store.isRevoked(session.userId).catch(() => false)) {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session was ended. Please reload the page.' });
  }
  return session;
}

/** What a socket whose session ended is told before it is closed (the client renews on UNAUTHORIZED). */
export function sessionEnded(why: 'expired' | 'revoked'): TRPCError {
  const message = why === 'expired' ? 'Your session has expired. Reconnecting with a new one.' : 'Your session was ended. Please reload the page.';
  return new TRPCError({ code: 'UNAUTHORIZED', message });
}

/** HTTP: the session token is optional here (public procedures), but a bad one is refused. */
export async function httpContext(svc: Services, req: IncomingMessage, res: ServerResponse): Promise<Context> {
  const token = bearer(req);
  const trustProxy = svc.cfg.TRUST_PROXY;
  const operatorToken = cookieValue(req, OPERATOR_COOKIE);
  return {
    svc,
    adminToken: isAdminToken(svc, req.headers['x-admin-token'] as string | undefined),
    ip: clientAddress(req, trustProxy),
    session: token ? await sessionFrom(svc, token) : null,
    operator: operatorToken ? await svc.operators.fromToken(operatorToken) : null,
    operatorToken,
    cookies: cookieJar(res, overHttps(req, trustProxy)),
    sameOrigin: originAllowed(req, [], trustProxy),
  };
}

/** WebSocket: a valid token in connectionParams is required; otherwise the socket is closed. Operators use HTTP only. */
export async function wsContext(svc: Services, params: Record<string, string | undefined> | null, ip: string): Promise<Context> {
  const session = await sessionFrom(svc, params?.token);
  return { svc, adminToken: false, ip, session, operator: null, operatorToken: null, cookies: noCookies, sameOrigin: true };
}
