/**
 * Operator procedures, by role (operators/, trpc.ts): viewers read, moderators also act on people
 * (decide reports and appeals, warn, ban, lift), admins also act on the system (force, repair,
 * checkpoints, rollbacks, pools, dead letters). Every mutation is recorded in operator_actions by
 * the role procedure itself; the audit trail's actor is `operator:<name>`.
 */
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { DEAD_LETTER_STATUSES } from '../audit/dead-letter-queue';
import { stateTransitions } from '../audit/schema';
import { matches } from '../match/schema';
import { DEFAULT_POOL, POOL_NAME } from '../state/keys';
import type { State } from '../state/states';
import { STATES } from '../state/states';
import { adminProcedure, moderatorProcedure, router, viewerProcedure } from '../trpc/trpc';
import { actorOf } from '../operators/actor';
import { checkConsistency } from '../state/consistency';
import { rollbackMatch, rollbackUser } from '../checkpoint/restore';
import { DECISIONS } from '../safety/moderation';
import { opsProcedures } from '../ops/router';

const pool = z.string().regex(POOL_NAME).default(DEFAULT_POOL);
const id = z.string().min(1).max(100);
const reason = z.string().min(3).max(200);
const stateEnum = z.enum(STATES as [State, ...State[]]);

/** Operator moderation (safety/moderation.ts, sanctions.ts): the report queue, decisions, bans, appeals. */
const limit = z.number().int().min(1).max(500).default(50);
const moderationRouter = router({
  /** Open reports, most urgent first (looks under 18, sexual, violence, harassment, spam, other), with their evidence. */
  reports: viewerProcedure.input(z.object({ limit }).optional()).query(({ ctx, input }) => ctx.svc.moderation.queue(input?.limit ?? 50)),
  /** Decide a report: dismiss it, or ban the reported person (durationMs null: for good). */
  decide: moderatorProcedure
    .input(
      z.object({
        reportId: z.string().uuid(),
        decision: z.enum(DECISIONS),
        reason,
        durationMs: z
          .number()
          .int()
          .min(60_000)
          .max(3650 * 86_400_000)
          .nullable()
          .default(null),
      }),
    )
    .mutation(({ ctx, input }) => ctx.svc.moderation.decide(input.reportId, input.decision, actorOf(ctx), input.reason, input.durationMs)),
  appeals: viewerProcedure.input(z.object({ limit }).optional()).query(({ ctx, input }) => ctx.svc.moderation.openAppeals(input?.limit ?? 50)),
  /** Uphold an appeal (the ban is lifted) or deny it. */
  decideAppeal: moderatorProcedure
    .input(z.object({ appealId: z.string().uuid(), upheld: z.boolean(), reason }))
    .mutation(({ ctx, input }) => ctx.svc.moderation.decideAppeal(input.appealId, input.upheld, actorOf(ctx), input.reason)),
  /** Warn a person: recorded, and shown to them at once ("A moderator warns you: ..."). */
  warn: moderatorProcedure
    .input(z.object({ userId: id, message: z.string().trim().min(3).max(300) }))
    .mutation(({ ctx, input }) => ctx.svc.sanctions.warn(input.userId, input.message, actorOf(ctx))),
  /** Every moderation action about a person, newest first. */
  history: viewerProcedure.input(z.object({ userId: id })).query(({ ctx, input }) => ctx.svc.moderation.history(input.userId)),
  ban: moderatorProcedure
    .input(
      z.object({
        userId: id,
        durationMs: z
          .number()
          .int()
          .min(60_000)
          .max(3650 * 86_400_000)
          .nullable(),
        reason,
      }),
    )
    .mutation(({ ctx, input }) => ctx.svc.sanctions.ban(input.userId, input.durationMs, input.reason, actorOf(ctx))),
  lift: moderatorProcedure
    .input(z.object({ userId: id, reason }))
    .mutation(({ ctx, input }) => ctx.svc.sanctions.lift(input.userId, input.reason, actorOf(ctx))),
});

export const adminRouter = router({
  moderation: moderationRouter,
  // The console's live data and actions (server/ops/).
  ...opsProcedures,
  counts: viewerProcedure.input(z.object({ pool }).optional()).query(({ ctx, input }) => ctx.svc.store.counts(input?.pool ?? DEFAULT_POOL)),
  usersIn: viewerProcedure
    .input(z.object({ pool, state: stateEnum, offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(100) }))
    .query(({ ctx, input }) => ctx.svc.store.usersIn(input.pool, input.state, input.offset, input.limit)),
  stuck: viewerProcedure
    .input(z.object({ pool, state: stateEnum, olderThanMs: z.number().int().min(0), limit: z.number().int().min(1).max(1000).default(100) }))
    .query(({ ctx, input }) => ctx.svc.store.stuck(input.pool, input.state, input.olderThanMs, input.limit)),
  user: viewerProcedure.input(z.object({ userId: id })).query(({ ctx, input }) => ctx.svc.store.getUser(input.userId)),
  /** Move a user to any state, bypassing the transition table; audited with you as the actor. */
  force: adminProcedure.input(z.object({ userId: id, to: stateEnum, reason })).mutation(async ({ ctx, input }) => {
    const p = await ctx.svc.store.poolOf(input.userId);
    return ctx.svc.store.force({ uid: input.userId, pool: p, to: input.to, actor: actorOf(ctx), reason: input.reason });
  }),
  /** Find and repair users in no set, in two sets, or whose hash disagrees with their set. */
  consistency: adminProcedure
    .input(z.object({ pool, repair: z.boolean().default(true) }))
    .mutation(({ ctx, input }) => checkConsistency(ctx.svc.redis, ctx.svc.store, input.pool, input.repair)),
  /** Snapshot every active user and match to Postgres now. */
  checkpoint: adminProcedure.mutation(({ ctx }) => ctx.svc.checkpoints.snapshot()),
  /** Put a user back as their latest checkpoint says (audited with you as the actor). */
  rollbackUser: adminProcedure
    .input(z.object({ userId: id }))
    .mutation(({ ctx, input }) => rollbackUser(ctx.svc.store, ctx.svc.checkpoints, input.userId, actorOf(ctx))),
  /** Put both users of a match back as the match's latest checkpoint found them. */
  rollbackMatch: adminProcedure
    .input(z.object({ matchId: id }))
    .mutation(({ ctx, input }) => rollbackMatch(ctx.svc.store, ctx.svc.checkpoints, input.matchId, actorOf(ctx))),
  /** Breakers, bulkheads and recent errors (the same figures as /metrics), paused pools, pending dead letters (null: Postgres did not answer). */
  health: viewerProcedure.query(async ({ ctx }) => ({
    ...(await ctx.svc.resilience.health()),
    pausedPools: await ctx.svc.store.pausedPools(),
    deadLetters: await ctx.svc.deadLetters.countPending().catch(() => null),
  })),
  pools: router({
    pause: adminProcedure.input(z.object({ pool, reason, minutes: z.number().int().min(1).max(1440).default(30) })).mutation(async ({ ctx, input }) => {
      await ctx.svc.store.pausePool(input.pool, input.reason, input.minutes * 60_000);
      return { ok: true as const };
    }),
    resume: adminProcedure.input(z.object({ pool })).mutation(async ({ ctx, input }) => {
      await ctx.svc.store.resumePool(input.pool);
      return { ok: true as const };
    }),
  }),
  /** Audit records the drain gave up on (the dead_letters table): list, write again, or discard. */
  deadLetters: router({
    list: viewerProcedure
      .input(
        z
          .object({
            status: z.enum(DEAD_LETTER_STATUSES).default('pending'),
            offset: z.number().int().min(0).default(0),
            limit: z.number().int().min(1).max(500).default(50),
          })
          .optional(),
      )
      .query(({ ctx, input }) => ctx.svc.deadLetters.list(input)),
    retry: adminProcedure.input(z.object({ id: z.string().min(1).max(200) })).mutation(({ ctx, input }) => ctx.svc.deadLetters.retry(input.id)),
    discard: adminProcedure.input(z.object({ id: z.string().min(1).max(200) })).mutation(({ ctx, input }) => ctx.svc.deadLetters.discard(input.id)),
  }),
  audit: router({
    /** A user's transitions in order (from Postgres). */
    user: viewerProcedure
      .input(z.object({ userId: id, limit: z.number().int().min(1).max(5000).default(500) }))
      .query(({ ctx, input }) =>
        ctx.svc.database.db
          .select()
          .from(stateTransitions)
          .where(eq(stateTransitions.userId, input.userId))
          .orderBy(asc(stateTransitions.at), asc(stateTransitions.version))
          .limit(input.limit),
      ),
    /** A match and every transition that mentions it, in order. */
    match: viewerProcedure.input(z.object({ matchId: id })).query(async ({ ctx, input }) => {
      const db = ctx.svc.database.db;
      const [match] = await db.select().from(matches).where(eq(matches.id, input.matchId));
      const transitions = await db
        .select()
        .from(stateTransitions)
        .where(eq(stateTransitions.matchId, input.matchId))
        .orderBy(asc(stateTransitions.at), asc(stateTransitions.eventId));
      return { match: match ?? null, transitions };
    }),
  }),
});
