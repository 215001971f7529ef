/**
 * The events a user receives on `match.events`, as a discriminated union on `type`.
 * They are written by the state scripts (Lua) and the relay, so every field is plain JSON.
 */
export type LeaveReason = 'skip' | 'end' | 'disconnect' | 'timeout';

interface Base {
  /** Server time the event was written, ms since epoch. */
  at: number;
}

export type MatchEvent = Base &
  (
    | { type: 'queued'; position: number; estimatedWaitMs: number | null }
    | {
        type: 'matched';
        matchId: string;
        partnerId: string;
        partnerName: string;
        /** WebRTC perfect-negotiation role in direct mode. */
        role: 'polite' | 'impolite';
        mode: 'direct' | 'livekit';
        livekit?: { url: string; token: string; room: string };
      }
    | { type: 'chat'; matchId: string; from: 'me' | 'partner'; text: string; clientMessageId: string }
    | { type: 'typing'; matchId: string; typing: boolean }
    | { type: 'signal'; matchId: string; data: unknown }
    | { type: 'partner_left'; matchId: string; reason: LeaveReason }
    | { type: 'requeued'; front: boolean }
    | { type: 'state'; from: string; to: string; reason: string; version: number }
    | { type: 'notice'; code: string; message: string }
  );

export type MatchEventType = MatchEvent['type'];
