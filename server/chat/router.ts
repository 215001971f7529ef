import { z } from 'zod';
import { chatVariants } from '../safety/text-safety';
import { hideAddresses } from './hide-addresses';
import type { StateStore } from '../state/store';
import type { Context } from '../trpc/context';
import { authedProcedure, router } from '../trpc/trpc';

const matchId = z.string().uuid();
/** A peer connection's id, chosen by the client (it may run more than one per call): relayed as it is. */
const peerId = z
  .string()
  .max(40)
  .regex(/^[A-Za-z0-9_-]+$/)
  .optional();
const peers = { from: peerId, to: peerId };

/** Relays to the caller's partner, in the caller's pool. */
function relay(ctx: Context & { userId: string }, a: Omit<Parameters<StateStore['relay']>[0], 'uid' | 'pool' | 'guess'>) {
  return ctx.svc.store.inUserPool(ctx.userId, (pool, guess) => ctx.svc.store.relay({ ...a, uid: ctx.userId, pool, guess }));
}

export const chatRouter = router({
  /**
   * Send a message to your current partner; a retry with the same clientMessageId is delivered
   * once. The partner may see links, contacts or offensive words masked (README "Text safety").
   */
  send: authedProcedure
    .input(z.object({ matchId, text: z.string().trim().min(1).max(2000), clientMessageId: z.string().min(8).max(64) }))
    .mutation(({ ctx, input }) =>
      relay(ctx, { matchId: input.matchId, kind: 'chat', text: input.text, masks: chatVariants(input.text), clientMessageId: input.clientMessageId }),
    ),
  typing: authedProcedure
    .input(z.object({ matchId, typing: z.boolean() }))
    .mutation(({ ctx, input }) => relay(ctx, { matchId: input.matchId, kind: 'typing', typing: input.typing })),
});

export const signalRouter = router({
  /**
   * Relay a WebRTC offer, answer or ICE candidates to your partner (direct mode). `from` and `to`
   * (optional, on every kind): the client's own peer-connection ids, relayed unchanged. With TURN
   * configured, the partner of a sender who hides their address gets it without any address but
   * the relay's (hide-addresses.ts; the script picks by the sender's `privacy`).
   */
  send: authedProcedure
    .input(
      z.object({
        matchId,
        data: z.union([
          z.object({
            kind: z.literal('description'),
            description: z.object({ type: z.enum(['offer', 'answer', 'pranswer', 'rollback']), sdp: z.string().max(20_000).optional() }),
            ...peers,
          }),
          z.object({
            kind: z.literal('candidates'),
            // The ICE candidates gathered since the last message (a client sends them in one go).
            candidates: z
              .array(z.object({ candidate: z.string().max(1000), sdpMid: z.string().max(64).nullish(), sdpMLineIndex: z.number().int().nullish() }))
              .min(1)
              .max(20),
            ...peers,
          }),
          z.object({ kind: z.literal('connected'), ...peers }),
        ]),
      }),
    )
    .mutation(({ ctx, input }) => {
      const hidden = ctx.svc.cfg.TURN_URLS.length > 0 ? hideAddresses(input.data) : null;
      return relay(ctx, { matchId: input.matchId, kind: 'signal', data: input.data, hidden: hidden ?? undefined });
    }),
  /**
   * Tell your partner what you are sending now (false: no device, muted or camera off); they get
   * `partner_media`. Refused like typing when you are not in that match. (Not `call.media`: tRPC
   * reserves `call`, `apply` and `then` as router names.)
   */
  media: authedProcedure
    // failed: our video could not connect at all (the partner is told, media_failures_total counts it).
    .input(z.object({ matchId, audio: z.boolean(), video: z.boolean(), failed: z.boolean().optional() }))
    .mutation(async ({ ctx, input }) => {
      const r = await relay(ctx, { matchId: input.matchId, kind: 'media', audio: input.audio, video: input.video, failed: input.failed });
      // Every report counts here; the funnel's iceFailures counts each match once (relay-2.lua).
      if (input.failed) ctx.svc.metrics.mediaFailures.inc();
      return r;
    }),
  /**
   * The media path of your call once it connected, from your selected ICE candidate pair: `relay`
   * when either end of it is a TURN relay, else `direct`. Sent once per call by the side that made
   * the offer; refused when you are not in that match, and a match counts once whoever sends it
   * and however often (relay-2.lua): media_paths_total and the funnel's relayed share.
   */
  path: authedProcedure.input(z.object({ matchId, path: z.enum(['relay', 'direct']) })).mutation(async ({ ctx, input }) => {
    await relay(ctx, { matchId: input.matchId, kind: 'path', path: input.path });
    return { ok: true as const };
  }),
});
