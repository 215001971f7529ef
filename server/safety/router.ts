/** `safety.*`: reporting a partner (README, "Safety"). */
import { z } from 'zod';
import { authedProcedure, router } from '../trpc/trpc';
import { REPORT_REASONS } from './reports';

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
});
