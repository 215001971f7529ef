/**
 * The events a user receives on `match.events`, as a discriminated union on `type`.
 * They are written by the state scripts (Lua) and the relay, so every field is plain JSON.
 */
import type { MaskKind } from '../safety/text-safety';

export type LeaveReason = 'skip' | 'end' | 'disconnect' | 'timeout';

/**
 * WebRTC signalling relayed between the two users of a direct-mode match. `from` / `to`: the
 * sender's peer-connection ids (<= 40 of A-Z a-z 0-9 _ -), relayed unchanged when given.
 */
export type SignalData = { from?: string; to?: string } & (
  | { kind: 'description'; description: { type: 'offer' | 'answer' | 'pranswer' | 'rollback'; sdp?: string } }
  | { kind: 'candidates'; candidates: Array<{ candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }> }
  | { kind: 'connected' }
);

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
        /** text: text only (the textOnly kill switch): no call, no signalling; the chat is the conversation. */
        mode: 'direct' | 'livekit' | 'text';
        /** The interests both users gave, sorted; [] when none. */
        sharedInterests: string[];
        livekit?: { url: string; token: string; room: string };
        /** STUN/TURN servers for a direct-mode call (ICE_SERVERS). */
        iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
      }
    // masked: what the receiver sees masked in `text` (README "Text safety"); absent when nothing.
    | { type: 'chat'; matchId: string; from: 'me' | 'partner'; text: string; clientMessageId: string; masked?: MaskKind[] }
    | { type: 'typing'; matchId: string; typing: boolean }
    | { type: 'signal'; matchId: string; data: SignalData }
    // What the partner is sending now (signal.media): false = no device, muted or camera off.
    // failed: the partner's video could not connect (ICE failed after a restart, or nothing in time).
    | { type: 'partner_media'; matchId: string; audio: boolean; video: boolean; failed: boolean }
    | { type: 'partner_left'; matchId: string; reason: LeaveReason }
    | { type: 'partner_reconnecting'; matchId: string; graceMs: number }
    | { type: 'partner_back'; matchId: string }
    | { type: 'requeued'; front: boolean }
    | { type: 'state'; from: string; to: string; reason: string; version: number }
    | { type: 'notice'; code: string; message: string }
  );

export type MatchEventType = MatchEvent['type'];
