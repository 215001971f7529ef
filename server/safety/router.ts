/** `safety.*`: reporting a partner, appeals, and proof-of-work challenges (README, "Safety"). */
import { z } from 'zod';
import { authedProcedure, publicProcedure, router } from '../trpc/trpc';
import { REPORT_REASONS } from './reports';
import { altchaPayload } from './challenges';

// Base64 of the largest frame REPORT_SNAPSHOT_MAX_BYTES allows is checked again after decoding; this only stops a giant string early.
const MAX_SNAPSHOT_CHARS = 1_500_000;

export const safetyRouter = router({
  /**
   * Report the person you are talking to, or talked to a moment ago (REPORT_WINDOW_MS): a reason,
   * an optional note and, if you choose, a frame of their video. Blocks them too unless `block: false`.
   */
  report: authedProcedure
    .input(
      z.object({
        matchId: z.string().uuid(),
        reason: z.enum(REPORT_REASONS),
        note: z.string().trim().max(500).optional(),
        snapshot: z.string().max(MAX_SNAPSHOT_CHARS).base64().optional(),
        block: z.boolean().optional(),
      }),
    )
    .mutation(({ ctx, input }) => ctx.svc.reports.report(ctx.userId, input)),
  /** Your reports: when, why, and whether a moderator has acted on them. */
  myReports: authedProcedure.query(({ ctx }) => ctx.svc.moderation.reportsBy(ctx.userId)),
  /** The solution of a CHALLENGE_REQUIRED refusal's challenge: Start and Skip go through again for CHALLENGE_PASS_MS. */
  solveChallenge: authedProcedure.input(z.object({ altcha: altchaPayload })).mutation(async ({ ctx, input }) => {
    await ctx.svc.challenges.solve(ctx.userId, input.altcha);
    return { ok: true as const };
  }),
  /** Appeal a ban with the receipt it gave you (no session needed: you are banned). Once per ban. */
  appeal: publicProcedure
    .input(z.object({ receiptId: z.string().uuid(), text: z.string().trim().min(10).max(2000) }))
    .mutation(({ ctx, input }) => ctx.svc.moderation.appeal(input.receiptId, input.text)),
});
