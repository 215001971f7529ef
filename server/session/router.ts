import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { authedProcedure, publicProcedure, router } from '../trpc/trpc';
import { issueToken } from './token';

export const displayName = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[\p{L}\p{N} _.'-]+$/u, "Use letters, numbers, spaces and . _ ' - only");

export const sessionRouter = router({
  /** Start an anonymous session. Public; returns the token to send on every later call. */
  create: publicProcedure.input(z.object({ displayName: displayName.optional() }).optional()).mutation(({ ctx, input }) => {
    const userId = randomUUID();
    const expiresAt = ctx.svc.clock.now() + ctx.svc.cfg.SESSION_TTL_MS;
    const name = input?.displayName ?? `Stranger ${userId.slice(0, 4)}`;
    return { userId, displayName: name, token: issueToken({ sub: userId, name, exp: expiresAt }, ctx.svc.sessionSecret), expiresAt };
  }),
  /** The caller's session and current state. */
  me: authedProcedure.query(async ({ ctx }) => {
    const u = await ctx.svc.store.getUser(ctx.userId);
    return { ...u, displayName: ctx.session.name };
  }),
});
