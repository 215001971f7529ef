/**
 * tRPC is initialised here, once. This file exports only the base procedures:
 * `publicProcedure`, `authedProcedure` (acts as ctx.userId), `adminProcedure` (ADMIN_TOKEN) and
 * the `inStates` middleware factory (a procedure declares the states it is valid in).
 */
import { TRPCError, initTRPC } from '@trpc/server';
import { classify, isDependencyFailure, userMessage } from '../resilience';
import { isDomainError } from '../state/errors';
import type { Precondition, State } from '../state/states';
import type { Context } from './context';

const t = initTRPC.context<Context>().create({
  /**
   * Every error a client sees has a stable `appCode` and a message written for a person. Domain
   * errors carry their own; auth and input errors keep tRPC's; anything else (a driver's raw
   * "Connection is closed.") is replaced by the message for its class, never shown as is.
   */
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const domain = isDomainError(cause) ? cause : null;
    let appCode = domain?.code;
    let message = shape.message;
    if (!domain) {
      if (error.code === 'UNAUTHORIZED') appCode = 'UNAUTHORIZED';
      else if (error.code === 'BAD_REQUEST' || error.code === 'PARSE_ERROR') appCode = 'INVALID_INPUT';
      else if (error.code === 'PRECONDITION_FAILED') appCode = 'WRONG_STATE';
      else if (error.code === 'INTERNAL_SERVER_ERROR') {
        const known = userMessage(cause && isDependencyFailure(classify(cause)) ? 'SERVICE_UNAVAILABLE' : 'INTERNAL');
        appCode = known.code;
        message = known.message;
      } else appCode = error.code;
    }
    return { ...shape, message, data: { ...shape.data, stack: undefined, appCode, details: domain?.details ?? null } };
  },
});

export const router = t.router;
export const middleware = t.middleware;

/**
 * The edge of every call. Each base procedure is one middleware (each level of tRPC's chain
 * copies the call's options), so authentication and a procedure's declared states run in the same
 * level as this:
 * - Every failed call is handed to the ErrorRecoveryManager: classified, counted (errors_total),
 *   audited (errors) and met with its class's strategy (e.g. a data inconsistency pauses the
 *   pool). Nothing is retried here (the Redis policy already did, with op ids); the reply is not
 *   delayed.
 * - Domain errors become TRPCErrors, with their message for a person.
 */
function recordFailure(ctx: Context, path: string, type: string, cause: unknown): void {
  void ctx.svc.resilience.manager
    .executeWithRecovery(
      () => {
        throw cause;
      },
      { operation: `${type}:${path}`, userId: ctx.session?.userId },
    )
    .catch(() => {});
}

/** A call's result at the edge: a failure is recorded, and a domain error worded for a person. */
function settle<R extends { ok: true } | { ok: false; error: TRPCError }>(res: R, ctx: Context, path: string, type: string): R {
  if (!res.ok) {
    recordFailure(ctx, path, type, res.error.cause ?? res.error);
    if (isDomainError(res.error.cause)) {
      const domain = res.error.cause;
      throw new TRPCError({ code: domain.httpCode, message: domain.message, cause: domain });
    }
  }
  return res;
}

/** Refused before the call: recorded like any failure, then thrown to the client. */
function refuse(ctx: Context, path: string, type: string, error: TRPCError): never {
  recordFailure(ctx, path, type, error);
  throw error;
}

export const publicProcedure = t.procedure.use(async ({ ctx, next, path, type }) => settle(await next(), ctx, path, type));

function unauthorized(): TRPCError {
  return new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session is not valid. Please reload the page.' });
}

export const authedProcedure = t.procedure.use(async ({ ctx, next, path, type }) => {
  const session = ctx.session ?? refuse(ctx, path, type, unauthorized());
  // tRPC merges this into the context.
  return settle(await next({ ctx: { session, userId: session.userId } }), ctx, path, type);
});

export const adminProcedure = t.procedure.use(async ({ ctx, next, path, type }) => {
  if (!ctx.admin) refuse(ctx, path, type, new TRPCError({ code: 'UNAUTHORIZED', message: 'Admin token required.' }));
  return settle(await next(), ctx, path, type);
});

/**
 * A procedure valid only while the user is in one of `states` (authenticated, as authedProcedure).
 * The declaration travels as `ctx.precondition` to the state script, which checks it atomically
 * before any write and refuses with WRONG_STATE ("You can't <action> while <state>."): no read
 * ahead of the call, and no window between a check and the change. A retry of a mutation that
 * already ran (same `idempotencyKey`, its record still live) gets the first call's answer instead.
 */
export function inStates(action: string, ...states: State[]) {
  const precondition: Precondition = { action, states };
  return t.procedure.use(async ({ ctx, next, path, type }) => {
    const session = ctx.session ?? refuse(ctx, path, type, unauthorized());
    return settle(await next({ ctx: { session, userId: session.userId, precondition } }), ctx, path, type);
  });
}
