import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { authedProcedure, publicProcedure, router } from '../trpc/trpc';
import { AGE_BRACKETS, RULES_VERSION, audienceFor } from '../safety/age';
import { ipKey } from '../safety/rate-limits';
import { altchaPayload } from '../safety/challenges';
import { sessionFrom } from '../trpc/context';
import { issueToken } from './token';

export const displayName = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[\p{L}\p{N} _.'-]+$/u, "Use letters, numbers, spaces and . _ ' - only");

/** A person's age bracket and their acceptance of the rules (safety/age.ts). */
const consent = z.object({ ageBracket: z.enum(AGE_BRACKETS), acceptRules: z.literal(true) });

/** The claims a consent adds to a token: refused (AGE_NOT_ALLOWED) for an age not served. */
function consentClaims(c: z.infer<typeof consent>, minorsAllowed: boolean) {
  return { age: audienceFor(c.ageBracket, minorsAllowed), rules: RULES_VERSION };
}

export const sessionRouter = router({
  /**
   * Start an anonymous session. Public; returns the token to send on every later call. `consent`:
   * the person's age answer and acceptance of the rules, carried in the token; without it the
   * session may look around but not Start (CONSENT_REQUIRED): the client asks first. `altcha`: the
   * solution of the challenge a CHALLENGE_REQUIRED refusal gave (safety/challenges.ts).
   */
  create: publicProcedure
    .input(
      z
        .object({ displayName: displayName.optional(), consent: consent.optional(), deviceId: z.string().uuid().optional(), altcha: altchaPayload.optional() })
        .optional(),
    )
    .mutation(async ({ ctx, input }) => {
      const claims = input?.consent ? consentClaims(input.consent, ctx.svc.cfg.ALLOW_MINORS) : {};
      // A banned device or address gets its ban receipt instead (safety/sanctions.ts).
      const address = ipKey(ctx.svc.sessionSecret, ctx.ip);
      await ctx.svc.sanctions.checkNewSession(input?.deviceId, address);
      // Many new sessions, or many refusals, from this address: a proof of work first.
      await ctx.svc.challenges.admit('sessions', address, input?.altcha);
      const userId = randomUUID();
      const expiresAt = ctx.svc.clock.now() + ctx.svc.cfg.SESSION_TTL_MS;
      const name = input?.displayName ?? `Stranger ${userId.slice(0, 4)}`;
      await ctx.svc.sanctions.remember(userId, input?.deviceId, address, ctx.svc.cfg.SESSION_TTL_MS);
      const token = issueToken({ sub: userId, name, exp: expiresAt, ...claims }, ctx.svc.sessionSecret);
      // relay: this server hands out TURN credentials, so the page offers "Hide my IP address".
      return { userId, displayName: name, token, expiresAt, relay: ctx.svc.cfg.TURN_URLS.length > 0 };
    }),
  /**
   * The page is going (sent by `navigator.sendBeacon` on `pagehide`): if this session's connection
   * is lost, or already was, its match ends after LEAVE_GRACE_MS instead of RECONNECT_GRACE_MS,
   * unless the same session is back first (a reload). Public, as a beacon cannot set headers: the
   * token travels in the body and is verified here; a bad or expired one is refused UNAUTHORIZED
   * and changes nothing. Nothing to do (at rest, or not in any state yet) is no error.
   */
  leave: publicProcedure.input(z.object({ token: z.string().min(1).max(2000) })).mutation(async ({ ctx, input }) => {
    const session = await sessionFrom(ctx.svc, input.token);
    await ctx.svc.presence.leave(session.userId);
    return { ok: true as const };
  }),
  /** The caller's session and current state. */
  me: authedProcedure.query(async ({ ctx }) => {
    const u = await ctx.svc.store.getUser(ctx.userId);
    return { ...u, displayName: ctx.session.name };
  }),
});
