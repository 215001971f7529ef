/**
 * One simulated person, start to finish, the way the web client drives the API: connect and
 * subscribe to `match.events`, then for each of `calls` calls: enqueue (unless a skip left them
 * waiting) -> `matched` -> direct-mode signalling (the impolite side offers, the polite side
 * answers, both send ICE candidates and `connected`) -> `match.joined` -> IN_CALL -> a chat line
 * each -> the impolite side skips or ends after `holdMs`, the other sees `partner_left`. Then
 * cancel if still queued, and close. An absent user closes the socket in the middle of a call
 * without leaving (a closed tab): presence ends the call after the reconnect grace.
 * A call that ends early (the partner vanished, a timeout) counts as aborted and the next begins;
 * any failed procedure ends the person (counted by its code) and closes the socket.
 */
import { randomUUID } from 'node:crypto';
import type { MatchEvent } from '../../server/events/types';
import type { FlowApi } from '../flow/connection';
import { FlowTimeout, type Inbox } from './inbox';

export interface UserPlan {
  calls: number;
  /** The call (0-based) in which the socket is closed without leaving, or null. */
  absentAt: number | null;
  holdMs: number;
  skip: boolean;
}

export interface FlowCounts {
  callsStarted: number;
  inCall: number;
  completed: number;
  aborted: number;
  /** What ended the aborted calls: `partner_left:<reason>` or `state:<from>-><to>`. */
  abortedBy: Record<string, number>;
  skips: number;
  ends: number;
  absent: number;
  chats: number;
}

type Matched = Extract<MatchEvent, { type: 'matched' }>;
type StateEvent = Extract<MatchEvent, { type: 'state' }>;

// Generous: a fault (Redis frozen, a server restarting) may hold a step for several seconds.
const MATCH_WAIT_MS = 60_000;
const STEP_MS = 30_000;
const FAKE_SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

const isMatched = (e: MatchEvent): e is Matched => e.type === 'matched';
// Back to resting or the queue from a call (not the enqueue's IDLE -> WAITING, which may come with `matched`).
const CALL_STATES = new Set(['CONNECTING', 'IN_CALL', 'DISCONNECTING']);
const settled = (e: MatchEvent): e is StateEvent => e.type === 'state' && (e.to === 'IDLE' || e.to === 'WAITING') && CALL_STATES.has(e.from);
const description = (kind: 'offer' | 'answer', mid: string) => (e: MatchEvent) =>
  e.type === 'signal' && e.matchId === mid && e.data.kind === 'description' && e.data.description.type === kind;
const over = (mid: string) => (e: MatchEvent) => (e.type === 'partner_left' && e.matchId === mid) || settled(e);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the person's calls; resolves 'absent' when they vanished mid-call (the socket is then the caller's to close). */
export async function runUser(api: FlowApi, inbox: Inbox, plan: UserPlan, n: FlowCounts): Promise<'done' | 'absent'> {
  let state = 'IDLE';
  for (let call = 0; call < plan.calls; call++) {
    if (state !== 'WAITING') await api.match.enqueue.mutate({});
    n.callsStarted++;
    const m = await inbox.next('matched', isMatched, MATCH_WAIT_MS);
    const mid = m.matchId;
    const offerer = m.role === 'impolite';
    // Two ICE candidates, gathered together and sent in one signal (as the web client does).
    const candidates = () =>
      api.signal.send.mutate({
        matchId: mid,
        data: {
          kind: 'candidates',
          candidates: [1, 2].map((i) => ({ candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${9000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 })),
        },
      });
    if (offerer) {
      await api.signal.send.mutate({ matchId: mid, data: { kind: 'description', description: { type: 'offer', sdp: FAKE_SDP } } });
      await candidates();
    }
    const heard = await inbox.next('signal', (e) => description(offerer ? 'answer' : 'offer', mid)(e) || over(mid)(e), STEP_MS);
    if (heard.type !== 'signal') {
      state = await settle(inbox, heard, n);
      continue;
    }
    if (!offerer) {
      await api.signal.send.mutate({ matchId: mid, data: { kind: 'description', description: { type: 'answer', sdp: FAKE_SDP } } });
      await candidates();
    }
    await api.signal.send.mutate({ matchId: mid, data: { kind: 'connected' } });
    await api.match.joined.mutate({ matchId: mid });
    const up = await inbox.next('in-call', (e) => (e.type === 'state' && e.to === 'IN_CALL') || over(mid)(e), STEP_MS);
    if (up.type !== 'state' || up.to !== 'IN_CALL') {
      state = await settle(inbox, up, n);
      continue;
    }
    n.inCall++;
    await api.chat.send.mutate({ matchId: mid, text: 'hello from the soak', clientMessageId: randomUUID() });
    n.chats++;
    if (plan.absentAt === call) {
      await sleep(plan.holdMs / 2);
      n.absent++;
      return 'absent';
    }
    if (offerer) {
      await sleep(plan.holdMs);
      if (plan.skip) await api.match.skip.mutate({ matchId: mid });
      else await api.match.end.mutate({ matchId: mid });
      n[plan.skip ? 'skips' : 'ends']++;
    } else {
      await inbox.next('partner-left', (e) => e.type === 'partner_left' && e.matchId === mid, plan.holdMs + STEP_MS);
    }
    state = (await inbox.next('settled', settled, STEP_MS)).to;
    n.completed++;
  }
  if (state === 'WAITING') await api.match.cancel.mutate();
  return 'done';
}

/** A call that ended before IN_CALL: where the person stands now. */
async function settle(inbox: Inbox, e: MatchEvent, n: FlowCounts): Promise<string> {
  n.aborted++;
  const why = e.type === 'partner_left' ? `partner_left:${e.reason}` : e.type === 'state' ? `state:${e.from}->${e.to}` : e.type;
  n.abortedBy[why] = (n.abortedBy[why] ?? 0) + 1;
  if (settled(e)) return e.to;
  return (await inbox.next('settled-after-abort', settled, STEP_MS)).to;
}

export { FlowTimeout };
