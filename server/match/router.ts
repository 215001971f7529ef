import { tracked } from '@trpc/server';
import { z } from 'zod';
import type { MatchEvent } from '../events/types';
import { audienceOf } from '../safety/age';
import { RawJson } from '../shared/raw-json';
import { State } from '../state/states';
import { authedProcedure, inStates, router } from '../trpc/trpc';

const idempotencyKey = z.string().min(8).max(100).optional();
const tag = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(24)
  .regex(/^[\p{L}\p{N} _-]+$/u);
const code = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z]{2,8}$/);
const matchId = z.string().uuid();
// Each event goes out as the script encoded it (no parse and encode per delivery); its type
// for clients is MatchEvent, which is what that JSON is (server/state/scripts, events/types.ts).
const asTracked = (id: string, json: string) => tracked(id, RawJson.object(json) as unknown as MatchEvent);

/**
 * What a skip or end tells the caller: where they are now (CONNECTING: paired again at once) and
 * whether the match was already over.
 * Who the former partner or anyone else was paired with next is nobody else's business.
 */
function leaveView(r: { state: State; already: boolean }) {
  return { state: r.state, already: r.already };
}

export const matchRouter = router({
  /** Join the queue. A match attempt runs at once; `matched` arrives on match.events. */
  enqueue: inStates('start looking', State.IDLE)
    .input(
      z.object({
        interests: z.array(tag).max(10).optional(),
        language: code.optional(),
        region: code.optional(),
        idempotencyKey,
        // Text safety (README): contacts shown only when both allow them; the word filter, on unless false.
        chat: z.object({ allowContacts: z.boolean().optional(), profanityFilter: z.boolean().optional() }).optional(),
        // IP privacy (README "Video"): with TURN configured, what you send your partner carries only the relay's address. On unless false.
        privacy: z.boolean().optional(),
      }),
    )
    .mutation(async ({ ctx, input }) =>
      ctx.svc.match.enqueue(
        ctx.userId,
        ctx.session.name,
        input,
        ctx.precondition,
        audienceOf(ctx.session.consent),
        await ctx.svc.sanctions.isLowTrust(ctx.userId),
      ),
    ),
  /** Leave the queue. */
  cancel: inStates('cancel', State.WAITING)
    .input(z.object({ idempotencyKey }).optional())
    .mutation(({ ctx, input }) => ctx.svc.match.cancel(ctx.userId, input?.idempotencyKey, ctx.precondition)),
  /** Skip: both back to the queue, the partner at the front. */
  skip: authedProcedure
    .input(z.object({ matchId: matchId.optional(), idempotencyKey }).optional())
    .mutation(async ({ ctx, input }) => leaveView(await ctx.svc.match.leave(ctx.userId, 'skip', input?.matchId, input?.idempotencyKey))),
  /** End: you rest, the partner goes to the front of the queue. */
  end: authedProcedure
    .input(z.object({ matchId: matchId.optional(), idempotencyKey }).optional())
    .mutation(async ({ ctx, input }) => leaveView(await ctx.svc.match.leave(ctx.userId, 'end', input?.matchId, input?.idempotencyKey))),
  /** Report that your side of the call is connected (direct WebRTC up, or text-only ready). */
  joined: inStates('join a call', State.CONNECTING, State.IN_CALL)
    .input(z.object({ matchId }))
    .mutation(({ ctx, input }) => ctx.svc.match.joined(ctx.userId, input.matchId, ctx.precondition)),
  block: authedProcedure.input(z.object({ userId: z.string().uuid() })).mutation(async ({ ctx, input }) => {
    await ctx.svc.match.block(ctx.userId, input.userId);
    return { ok: true as const };
  }),
  unblock: authedProcedure.input(z.object({ userId: z.string().uuid() })).mutation(async ({ ctx, input }) => {
    await ctx.svc.match.unblock(ctx.userId, input.userId);
    return { ok: true as const };
  }),
  /**
   * Your events, in order, each exactly once. Resume after a reconnect (to any server process)
   * by passing the last id you received; the client link does this for you.
   */
  events: authedProcedure
    .input(z.object({ lastEventId: z.string().max(200).nullish() }).optional())
    // Listening starts here, before tRPC acknowledges the subscription (see EventHub.open). The
    // stream ends with its transport: tRPC returns it when the subscription stops or the socket
    // closes, and the signal aborts when an HTTP (SSE) client goes away, which the HTTP adapter
    // tells only through the signal.
    // A live subscription is presence (server/presence): held until the signal aborts.
    .subscription(async ({ ctx, input, signal }) => {
      const stream = await ctx.svc.hub.open(ctx.userId, input?.lastEventId, signal, asTracked);
      if (signal) ctx.svc.presence.holdStream(ctx.userId, signal);
      return stream;
    }),
});
