/**
 * `operators.*`: signing in and out of the console, operator accounts (admins), one's own
 * password, and the action log. The first admin is created with the server's ADMIN_TOKEN
 * (`bootstrap`, `npm run operator:create`), the only thing that token does.
 */
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { adminProcedure, publicProcedure, router, viewerProcedure } from '../trpc/trpc';
import { AdminTokenRequiredError, OriginRefusedError, SelfChangeError } from './errors';
import { MIN_PASSWORD_LENGTH } from './passwords';
import { OPERATOR_ROLES } from './schema';

const name = z.string().trim().min(1).max(64);
const password = z.string().min(MIN_PASSWORD_LENGTH).max(256);
const role = z.enum(OPERATOR_ROLES);

function refusal(e: AdminTokenRequiredError | OriginRefusedError): TRPCError {
  return new TRPCError({ code: e.httpCode, message: e.message, cause: e });
}

export const operatorsRouter = router({
  /** Who is signed in with this browser's cookie, or null. */
  me: publicProcedure.query(({ ctx }) => ctx.operator),
  // Any password is tried (max only), so a short one gets LOGIN_FAILED like any wrong one.
  login: publicProcedure.input(z.object({ name, password: z.string().min(1).max(256) })).mutation(async ({ ctx, input }) => {
    if (!ctx.sameOrigin) throw refusal(new OriginRefusedError());
    const { operator, token, maxAgeMs } = await ctx.svc.operators.login(input.name, input.password);
    ctx.cookies.set(token, maxAgeMs);
    return operator;
  }),
  logout: viewerProcedure.mutation(async ({ ctx }) => {
    if (ctx.operatorToken) await ctx.svc.operators.logout(ctx.operatorToken);
    ctx.cookies.clear();
    return { ok: true as const };
  }),
  list: adminProcedure.query(({ ctx }) => ctx.svc.operators.list()),
  create: adminProcedure
    .input(z.object({ name, password, role }))
    .mutation(({ ctx, input }) => ctx.svc.operators.create(input.name, input.password, input.role)),
  /** A new role, or disabled (every session of the account ends at once) or enabled again. */
  update: adminProcedure
    .input(z.object({ id: z.string().uuid(), role: role.optional(), disabled: z.boolean().optional() }))
    .mutation(async ({ ctx, input }) => {
      if (input.id === ctx.operator.id && (input.disabled || (input.role && input.role !== 'admin'))) throw new SelfChangeError();
      await ctx.svc.operators.update(input.id, { role: input.role, disabled: input.disabled });
      return { ok: true as const };
    }),
  changePassword: viewerProcedure.input(z.object({ current: z.string().min(1).max(256), next: password })).mutation(async ({ ctx, input }) => {
    await ctx.svc.operators.changePassword(ctx.operator.id, input.current, input.next, ctx.operatorToken);
    return { ok: true as const };
  }),
  /** The action log, newest first. */
  actions: viewerProcedure
    .input(
      z
        .object({
          limit: z.number().int().min(1).max(500).default(100),
          operatorId: z.string().uuid().optional(),
          target: z.string().min(1).max(200).optional(),
        })
        .optional(),
    )
    .query(({ ctx, input }) => ctx.svc.operatorActions.list({ limit: input?.limit ?? 100, operatorId: input?.operatorId, target: input?.target })),
  /** The first admin, with the `x-admin-token` header; refused once any admin exists. */
  bootstrap: publicProcedure.input(z.object({ name, password })).mutation(({ ctx, input }) => {
    if (!ctx.adminToken) throw refusal(new AdminTokenRequiredError());
    return ctx.svc.operators.bootstrap(input.name, input.password);
  }),
});
