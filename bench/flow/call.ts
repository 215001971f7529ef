/**
 * One call as one side of it sees it: what has been sent and received so far, so that
 * bench/flow/person.ts does each step once, whatever order the events come in.
 */
export interface Call {
  matchId: string;
  role: 'polite' | 'impolite';
  /** This side ends or skips the call (the other waits to be left). */
  leaves: boolean;
  /** performance.now() when `matched` arrived, and when IN_CALL did. */
  matchedAt: number;
  inCallAt: number | null;
  descSent: boolean;
  descReceived: boolean;
  candidatesReceived: number;
  /** Resolves true once every candidate of ours was relayed. */
  candidatesSent: Promise<boolean> | null;
  joinedSent: boolean;
  /** The chat is running; steps done so far (2 per message: typing on, send; the message clears typing). */
  talking: boolean;
  chatStep: number;
  chatsDone: boolean;
  /** Chat messages from the partner. */
  partnerMessages: number;
  /** The partner dropped (`partner_reconnecting`): the leaving side does not wait for their messages. */
  partnerAway: boolean;
  leaving: boolean;
}

/** The side that leaves: decided by the match id, identically on both sides (as in the churn). */
export const leaverRole = (matchId: string) => (parseInt(matchId.slice(-1), 16) % 2 === 0 ? 'impolite' : 'polite');

export function newCall(matchId: string, role: 'polite' | 'impolite', matchedAt: number): Call {
  return {
    matchId,
    role,
    leaves: role === leaverRole(matchId),
    matchedAt,
    inCallAt: null,
    descSent: false,
    descReceived: false,
    candidatesReceived: 0,
    candidatesSent: null,
    joinedSent: false,
    talking: false,
    chatStep: 0,
    chatsDone: false,
    partnerMessages: 0,
    partnerAway: false,
    leaving: false,
  };
}
