import { tracked } from '@trpc/server';
import { z } from 'zod';
import { authedProcedure, router } from '../trpc/trpc';

/** Event types that describe connections (yours and your partner's). */
const PRESENCE_TYPES = new Set(['partner_left', 'partner_reconnecting', 'partner_back', 'notice']);

export const presenceRouter = router({
  /** Tell the server you are still here. */
  heartbeat: authedProcedure.mutation(async ({ ctx }) => {
    await ctx.svc.presence.signal(ctx.userId, 'seen');
    return { at: ctx.svc.clock.now(), intervalMs: ctx.svc.cfg.HEARTBEAT_INTERVAL_MS };
  }),
  /** Connection events about your partner and yourself; tracked and resumable like match.events. */
  events: authedProcedure.input(z.object({ lastEventId: z.string().max(200).nullish() }).optional()).subscription(async ({ ctx, input, signal }) => {
    const events = await ctx.svc.hub.open(ctx.userId, input?.lastEventId, signal ?? new AbortController().signal);
    return (async function* () {
      for await (const { id, event } of events) if (PRESENCE_TYPES.has(event.type)) yield tracked(id, event);
    })();
  }),
});
