/**
 * The console's live data and actions (OPS part of issue 21): mounted inside the admin router, so
 * the paths are `admin.<name>`. Roles per the contract: viewer reads, moderator ends matches and
 * disconnects, admin sets switches and handles privacy requests. Every mutation is recorded by
 * the role middleware itself (operator_actions).
 */
import { desc, sql } from 'drizzle-orm';
import { z } from 'zod';
import { checkpoints, recoveries } from '../audit/schema';
import { actorOf } from '../operators/actor';
import { adminProcedure, moderatorProcedure, router, viewerProcedure } from '../trpc/trpc';

const userId = z.string().min(1).max(100);
const reason = z.string().trim().min(3).max(200);

/** Spread into the admin router (server/admin/router.ts): the paths are `admin.<name>`. */
export const opsProcedures = {
  overview: viewerProcedure.query(({ ctx }) => ctx.svc.ops.overview.current()),
  funnel: viewerProcedure
    .input(z.object({ minutes: z.number().int().min(5).max(180).default(60) }).optional())
    .query(({ ctx, input }) => ctx.svc.ops.funnel.report(input?.minutes ?? 60)),
  lookup: viewerProcedure.input(z.object({ query: z.string().trim().min(1).max(100) })).query(({ ctx, input }) => ctx.svc.ops.people.lookup(input.query)),
  userDetail: viewerProcedure.input(z.object({ userId })).query(({ ctx, input }) => ctx.svc.ops.people.userDetail(input.userId)),
  endMatch: moderatorProcedure
    .input(z.object({ matchId: z.string().uuid(), reason }))
    .mutation(({ ctx, input }) => ctx.svc.ops.people.endMatch(input.matchId, actorOf(ctx), input.reason)),
  disconnect: moderatorProcedure.input(z.object({ userId, reason })).mutation(({ ctx, input }) => ctx.svc.ops.people.disconnect(input.userId, actorOf(ctx))),
  switches: router({
    get: viewerProcedure.query(({ ctx }) => ctx.svc.ops.switches.get()),
    set: adminProcedure
      .input(z.object({ stopMatching: z.boolean().optional(), textOnly: z.boolean().optional(), tightLimits: z.boolean().optional(), reason }))
      .mutation(({ ctx, input }) => {
        const { reason: why, ...change } = input;
        return ctx.svc.ops.switches.set(change, actorOf(ctx), why);
      }),
  }),
  recovery: viewerProcedure.query(async ({ ctx }) => {
    const db = ctx.svc.database.db;
    const [r, c] = await Promise.all([
      db.select().from(recoveries).orderBy(desc(recoveries.at)).limit(50),
      // One snapshot run writes all its rows with one time: a run is a group.
      db
        .select({
          at: checkpoints.at,
          id: sql<string>`min(${checkpoints.eventId})`,
          users: sql<number>`count(*) filter (where ${checkpoints.kind} = 'user')`,
          matches: sql<number>`count(*) filter (where ${checkpoints.kind} = 'match')`,
        })
        .from(checkpoints)
        .groupBy(checkpoints.at)
        .orderBy(desc(checkpoints.at))
        .limit(20),
    ]);
    return {
      recoveries: r.map((x) => ({ at: x.at.getTime(), failureType: x.failureType, strategy: x.strategy, outcome: x.outcome, durationMs: x.durationMs })),
      checkpoints: c.map((x) => ({ at: x.at.getTime(), id: x.id.replace(/-[um]-.*$/, ''), users: Number(x.users), matches: Number(x.matches) })),
    };
  }),
  privacy: router({
    export: adminProcedure.input(z.object({ userId })).query(({ ctx, input }) => ctx.svc.ops.privacy.export(input.userId)),
    erase: adminProcedure.input(z.object({ userId, reason })).mutation(({ ctx, input }) => ctx.svc.ops.privacy.erase(input.userId)),
  }),
};
