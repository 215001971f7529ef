/**
 * tRPC is initialised here, once. This file exports only the base procedures:
 * `publicProcedure`, `authedProcedure` (acts as ctx.userId), `adminProcedure` (ADMIN_TOKEN) and
 * the `inStates` middleware factory (a procedure declares the states it is valid in).
 */
import { TRPCError, initTRPC } from '@trpc/server';
import { isDomainError } from '../state/errors';
import { WrongStateError } from '../state/errors';
import type { State } from '../state/states';
import type { Context } from './context';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const domain = isDomainError(cause) ? cause : null;
    return {
      ...shape,
      data: {
        ...shape.data,
        stack: undefined,
        appCode: domain?.code ?? (error.code === 'UNAUTHORIZED' ? 'UNAUTHORIZED' : error.code === 'BAD_REQUEST' ? 'INVALID_INPUT' : 'INTERNAL'),
        details: domain?.details ?? null,
      },
    };
  },
});

export const router = t.router;
export const middleware = t.middleware;

/** Domain errors become TRPCErrors here, at the edge, with their message for a person. */
const mapErrors = t.middleware(async ({ next }) => {
  const res = await next();
  if (!res.ok) {
    const cause = res.error.cause;
    if (isDomainError(cause)) {
      throw new TRPCError({ code: cause.httpCode, message: cause.message, cause });
    }
  }
  return res;
});

export const publicProcedure = t.procedure.use(mapErrors);

const isAuthed = t.middleware(({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session is not valid. Please reload the page.' });
  return next({ ctx: { ...ctx, session: ctx.session, userId: ctx.session.userId } });
});
export const authedProcedure = publicProcedure.use(isAuthed);

const isAdmin = t.middleware(({ ctx, next }) => {
  if (!ctx.admin) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Admin token required.' });
  return next();
});
export const adminProcedure = publicProcedure.use(isAdmin);

/** Refuse the call before any work unless the user is in one of `states`. */
export function inStates(action: string, ...states: State[]) {
  return authedProcedure.use(async ({ ctx, next }) => {
    const me = await ctx.svc.store.getUser(ctx.userId);
    if (!states.includes(me.state)) {
      throw new TRPCError({ code: 'PRECONDITION_FAILED', message: new WrongStateError(me.state, states, action).message, cause: new WrongStateError(me.state, states, action) });
    }
    return next({ ctx: { ...ctx, me } });
  });
}
