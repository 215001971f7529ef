/**
 * tRPC is initialised here, once. This file exports only the base procedures:
 * `publicProcedure`, `authedProcedure` (acts as ctx.userId), the operator procedures
 * (`viewerProcedure`, `moderatorProcedure`, `adminProcedure`: an operator of at least that role,
 * every mutation recorded) and the `inStates` middleware factory (a procedure declares the states
 * it is valid in).
 */
import { TRPCError, initTRPC } from '@trpc/server';
import { classify, isDependencyFailure, userMessage } from '../resilience';
import { ZodError } from 'zod';
import { USER_MESSAGES } from '../resilience/messages';
import { limitError } from '../http/limits';
import { LIMITED_PROCEDURES, RATE_ACTIONS, RateLimitedError, ipKey, type RateAction } from '../safety/rate-limits';
import { ChallengeFailedError, ChallengeRequiredError, type Watched } from '../safety/challenges';
import { LimitExceededError, isDomainError } from '../state/errors';
import { illFormedInput } from './well-formed';
import { ActionNotRecordedError, OriginRefusedError, RoleRequiredError, SignedOutError, isOperatorRefusal } from '../operators/errors';
import type { OperatorRole } from '../operators/schema';
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
    let details: Record<string, unknown> | null = domain?.details ?? null;
    if (!domain) {
      if (error.code === 'UNAUTHORIZED') appCode = 'UNAUTHORIZED';
      else if (error.message === TRPC_BATCH_TOO_LARGE) {
        appCode = 'BATCH_TOO_LARGE';
        message = USER_MESSAGES.BATCH_TOO_LARGE;
      } else if (error.code === 'BAD_REQUEST' || error.code === 'PARSE_ERROR') {
        appCode = 'INVALID_INPUT';
        // A schema's findings are for developers (details); the person reads one sentence.
        if (error.cause instanceof ZodError) {
          message = USER_MESSAGES.INVALID_INPUT;
          details = { issues: error.cause.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message })) };
        }
      } else if (error.code === 'PAYLOAD_TOO_LARGE') {
        appCode = 'PAYLOAD_TOO_LARGE';
        message = USER_MESSAGES.PAYLOAD_TOO_LARGE;
      } else if (error.code === 'PRECONDITION_FAILED') appCode = 'WRONG_STATE';
      else if (error.code === 'INTERNAL_SERVER_ERROR') {
        const known = userMessage(cause && isDependencyFailure(classify(cause)) ? 'SERVICE_UNAVAILABLE' : 'INTERNAL');
        appCode = known.code;
        message = known.message;
      } else appCode = error.code;
    }
    return { ...shape, message, data: { ...shape.data, stack: undefined, appCode, details } };
  },
});

export const router = t.router;

// Every base procedure starts here: RED metrics of each call, refusals included (infra/procedure-metrics.ts).
const procedure = t.procedure.use(({ ctx, path, type, next }) => ctx.svc.metrics.procedures.measure(path, type, next));

// tRPC's own words when a batch has more calls than maxBatchSize (resolveResponse); a test pins them.
export const TRPC_BATCH_TOO_LARGE = 'Batch call exceeds maximum size';
const EDGE_CODES = new Set(['UNAUTHORIZED', 'BAD_REQUEST', 'PARSE_ERROR', 'NOT_FOUND', 'METHOD_NOT_SUPPORTED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE']);

/** A refusal at the edge, or null for a failure of the call itself. */
function edgeRefusal(error: TRPCError): string | null {
  const c = error.cause;
  if (
    c instanceof LimitExceededError ||
    c instanceof RateLimitedError ||
    c instanceof ChallengeRequiredError ||
    c instanceof ChallengeFailedError ||
    isOperatorRefusal(c)
  )
    return c.code;
  if (isDomainError(error.cause)) return null;
  return EDGE_CODES.has(error.code) ? error.code : null;
}

/**
 * The edge of every call. Each base procedure is one middleware (each level of tRPC's chain
 * copies the call's options), so authentication and a procedure's declared states run in the same
 * level as this:
 * - The raw input must be well-formed text (well-formed.ts) before any schema or script sees it.
 * - A refusal anyone can cause (unauthenticated, malformed input, a bound or rate limit hit) is
 *   counted and sampled (Refusals), never audited one row each.
 * - A procedure with a rate limit (LIMITED_PROCEDURES) counts the call before it runs.
 * - Every other failed call is handed to the ErrorRecoveryManager: classified, counted
 *   (errors_total), audited (errors) and met with its class's strategy (e.g. a data
 *   inconsistency pauses the pool). Nothing is retried here (the Redis policy already did, with
 *   op ids); the reply is not delayed.
 * - Domain errors become TRPCErrors, with their message for a person.
 */
function recordFailure(ctx: Context, path: string, type: string, error: TRPCError): void {
  const refusal = edgeRefusal(error);
  if (refusal) return ctx.svc.refusals.count(refusal, { path, userId: ctx.session?.userId });
  const cause = error.cause ?? error;
  void ctx.svc.resilience.manager.recover(cause, { operation: `${type}:${path}`, userId: ctx.session?.userId }).catch(() => {});
}

/** A call's result at the edge: a failure is recorded, and a domain error worded for a person. */
function settle<R extends { ok: true } | { ok: false; error: TRPCError }>(res: R, ctx: Context, path: string, type: string): R {
  if (!res.ok) {
    recordFailure(ctx, path, type, res.error);
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

/** Refuses input that is not well-formed text, before any schema or script sees it. */
async function checkInput(ctx: Context, path: string, type: string, getRawInput: () => Promise<unknown>): Promise<void> {
  const problem = illFormedInput(await getRawInput());
  if (problem) refuse(ctx, path, type, new TRPCError({ code: 'BAD_REQUEST', message: `${USER_MESSAGES.INVALID_INPUT.slice(0, -1)}: ${problem}.` }));
}

/**
 * A person's calls that may ask for a proof of work first (safety/challenges.ts), with the
 * counter each feeds: Start and Skip, the calls a script repeats; never one in the middle of a
 * call (chat, signalling), which would break it. `session.create` asks in its own procedure, where
 * the solution travels with the input.
 */
const CHALLENGED: Partial<Record<RateAction, Watched>> = { enqueue: null, skip: 'skips' };

/**
 * Counts the call against its rate limit, if it has one (safety/rate-limits.ts); refused past it,
 * and the refusal counted towards a challenge. Then a suspicious person is asked for one.
 */
async function limit(ctx: Context, path: string, type: string, userId: string | null): Promise<void> {
  const action = LIMITED_PROCEDURES[path];
  if (!action) return;
  const subject = RATE_ACTIONS[action] === 'ip' ? ctx.ip : userId;
  if (subject === null) return;
  try {
    await ctx.svc.limits.consume(action, subject);
  } catch (e) {
    if (!(e instanceof RateLimitedError)) throw e;
    await ctx.svc.challenges.noteRefusal(RATE_ACTIONS[action] === 'ip' ? ipKey(ctx.svc.sessionSecret, subject) : subject);
    refuse(ctx, path, type, limitError(e));
  }
  const watched = CHALLENGED[action];
  if (watched === undefined) return;
  try {
    await ctx.svc.challenges.admit(watched, subject);
  } catch (e) {
    if (e instanceof ChallengeRequiredError) refuse(ctx, path, type, new TRPCError({ code: e.httpCode, message: e.message, cause: e }));
    throw e;
  }
}

export const publicProcedure = procedure.use(async ({ ctx, next, path, type, getRawInput }) => {
  await checkInput(ctx, path, type, getRawInput);
  await limit(ctx, path, type, ctx.session?.userId ?? null);
  return settle(await next(), ctx, path, type);
});

function unauthorized(): TRPCError {
  return new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session is not valid. Please reload the page.' });
}

export const authedProcedure = procedure.use(async ({ ctx, next, path, type, getRawInput }) => {
  const session = ctx.session ?? refuse(ctx, path, type, unauthorized());
  await checkInput(ctx, path, type, getRawInput);
  await limit(ctx, path, type, session.userId);
  // tRPC merges this into the context.
  return settle(await next({ ctx: { session, userId: session.userId } }), ctx, path, type);
});

/** A domain error as thrown at the edge: its own code and message for a person. */
function domainRefusal(e: RoleRequiredError | SignedOutError | OriginRefusedError | ActionNotRecordedError): TRPCError {
  return new TRPCError({ code: e.httpCode, message: e.message, cause: e });
}

const RANK: Record<OperatorRole, number> = { viewer: 0, moderator: 1, admin: 2 };

/** The code a failed call is recorded with in the action log: the appCode its caller sees. */
function errorCodeOf(error: TRPCError): string {
  if (isDomainError(error.cause)) return error.cause.code;
  return error.code === 'BAD_REQUEST' || error.code === 'PARSE_ERROR' ? 'INVALID_INPUT' : error.code;
}

/**
 * The queries that read one person's data (their export, detail, audit trail, a match's trail,
 * their moderation history): recorded in operator_actions like a mutation, so who looked at whom
 * is on record (once per operator and target in a few minutes: operators/actions.ts beginRead).
 */
const AUDITED_READS: ReadonlySet<string> = new Set([
  'admin.privacy.export',
  'admin.userDetail',
  'admin.user',
  'admin.audit.user',
  'admin.audit.match',
  'admin.moderation.history',
  'admin.moderation.reports',
  'admin.lookup',
]);

/**
 * A procedure for an operator of at least `role` (signed in with the console cookie). A mutation
 * is refused when its Origin names another site (SameSite=Strict already keeps the cookie off
 * other sites' requests; this covers browsers and proxies that do not). A mutation, and a read of
 * a person's data (AUDITED_READS), is recorded in operator_actions before it runs, then settled
 * with its outcome; if the record cannot be written, the call is refused: nothing is done, and no
 * one's data is read, unaudited.
 */
function operatorProcedure(role: OperatorRole) {
  return procedure.use(async ({ ctx, next, path, type, getRawInput }) => {
    const operator = ctx.operator ?? refuse(ctx, path, type, domainRefusal(new SignedOutError()));
    if (RANK[operator.role] < RANK[role]) refuse(ctx, path, type, domainRefusal(new RoleRequiredError(role)));
    if (type === 'mutation' && !ctx.sameOrigin) refuse(ctx, path, type, domainRefusal(new OriginRefusedError()));
    await checkInput(ctx, path, type, getRawInput);
    // Only per-address limits apply here (operators.changePassword shares sign-in's).
    await limit(ctx, path, type, null);
    const read = type !== 'mutation';
    if (read && !AUDITED_READS.has(path)) return settle(await next({ ctx: { operator } }), ctx, path, type);
    const actions = ctx.svc.operatorActions;
    const input = await getRawInput();
    const recordId = await (read ? actions.beginRead(operator, path, input) : actions.begin(operator, path, input)).catch((e: unknown) =>
      refuse(ctx, path, type, domainRefusal(new ActionNotRecordedError(e))),
    );
    const res = await next({ ctx: { operator } });
    if (recordId === null) return settle(res, ctx, path, type);
    await actions.settle(recordId, res.ok ? null : errorCodeOf(res.error)).catch((e: unknown) => {
      // Done and recorded as pending: the row says it was attempted; the log says why it was not settled.
      ctx.svc.log.warn({ err: e, path, recordId }, 'operator action not settled');
    });
    return settle(res, ctx, path, type);
  });
}

export const viewerProcedure = operatorProcedure('viewer');
export const moderatorProcedure = operatorProcedure('moderator');
export const adminProcedure = operatorProcedure('admin');

/**
 * A procedure valid only while the user is in one of `states` (authenticated, as authedProcedure).
 * The declaration travels as `ctx.precondition` to the state script, which checks it atomically
 * before any write and refuses with WRONG_STATE ("You can't <action> while <state>."): no read
 * ahead of the call, and no window between a check and the change. A retry of a mutation that
 * already ran (same `idempotencyKey`, its record still live) gets the first call's answer instead.
 */
export function inStates(action: string, ...states: State[]) {
  const precondition: Precondition = { action, states };
  return procedure.use(async ({ ctx, next, path, type, getRawInput }) => {
    const session = ctx.session ?? refuse(ctx, path, type, unauthorized());
    await checkInput(ctx, path, type, getRawInput);
    await limit(ctx, path, type, session.userId);
    return settle(await next({ ctx: { session, userId: session.userId, precondition } }), ctx, path, type);
  });
}
