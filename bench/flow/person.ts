/**
 * One simulated person of the full-call flow, driven by their own events: the state they are in
 * comes from `state` events (newest version wins, as in the browser client), and every event ends
 * in `progress()`, which does whatever is due next in that state and nothing twice:
 *   IDLE        -> match.enqueue (people re-enter at once: the load is closed-loop)
 *   CONNECTING  -> the impolite side sends an offer and its ICE candidates (in `candidateBatches`
 *                  signals), the polite side answers the offer and sends its own; each calls
 *                  match.joined once it has sent its description and candidates and received the
 *                  other's description and a candidate
 *   IN_CALL     -> per message: typing on, chat.send; then the side chosen by the match id skips
 *                  (probability `skip`) or ends, once the partner's messages have all arrived too
 *                  (or they dropped: `partner_reconnecting`)
 * A person whose socket was closed does nothing; when they come back the driver resumes them
 * (`resume`): the backlog of events replays, `session.me` says where they are, and they carry on.
 */
import { performance } from 'node:perf_hooks';
import type { MatchEvent } from '../../server/events/types';
import type { LatencyRecorder } from '../lib/stats';
import { newCall, type Call } from './call';
import { FROM_START, type FlowApi, type FlowConnection } from './connection';
import { bump, type FlowCounters } from './counters';
import { candidateBatches, fakeSdp } from './payloads';

/** A completed call, as handed to FullCallOptions.onCall. */
export interface CallRecord {
  matchId: string;
  how: 'skip' | 'end';
  /** `matched` received -> IN_CALL received, on the leaving side. */
  setupMs: number;
  /** Someone of the pair dropped during this match. */
  disturbed: boolean;
}

/** What a person needs from the driver. */
export interface FlowContext {
  readonly counters: FlowCounters;
  readonly latency: { enqueueToMatched: LatencyRecorder; requeueToMatched: LatencyRecorder; matchedToInCall: LatencyRecorder };
  readonly skip: number;
  readonly chatPerSide: number;
  readonly candidatesPerSide: number;
  readonly candidateBatches: number;
  stopped(): boolean;
  /** How long `uid` had been absent at server time `at` (ms), or null if they were there. */
  absentFor(uid: string, at: number): number | null;
  /** Marks a match as touched by an absence (its failures are absence races, not errors). */
  disturb(matchId: string): void;
  disturbed(matchId: string): boolean;
  /** Counts a ghost match once, whichever side reports it: `uid` was absent `absentMs` at server time `at`. */
  ghost(matchId: string, uid: string, at: number, absentMs: number): void;
  onCall(c: CallRecord): void;
  onError(e: unknown): void;
  /** The person just entered WAITING or IN_CALL: the driver may close their socket. */
  mayDrop(p: Person, where: 'WAITING' | 'IN_CALL'): void;
}

// A failed call within this long of a person's return is part of picking up where they were.
const RESUME_SETTLE_MS = 15_000;
// A step that failed (enqueue, signalling, joined, chat, leave) is tried again after this long, not in a tight loop.
const RETRY_MS = 1000;

export class Person {
  conn: FlowConnection | null = null;
  lastEventId = FROM_START;
  state = 'IDLE';
  /** When (ms since epoch) the generator closed this person's socket, and when the next one opened. */
  absentSince: number | null = null;
  backAt: number | null = null;
  private version = -1;
  private call: Call | null = null;
  private expectMatch: string | null = null;
  private enqueueSentAt: number | null = null;
  private requeuedAt: number | null = null;
  private enqueuing = false;
  private resuming = false;
  private resumedAt = 0;
  private lastEventAt = Date.now();

  constructor(
    readonly uid: string,
    private readonly ctx: FlowContext,
  ) {}

  onEvent(id: string, e: MatchEvent): void {
    this.lastEventId = id;
    this.lastEventAt = Date.now();
    bump(this.ctx.counters.received, `event ${e.type}`);
    const call = this.call;
    const mine = call !== null && 'matchId' in e && e.matchId === call.matchId;
    switch (e.type) {
      case 'state':
        this.onState(e.to, e.from, e.version);
        break;
      case 'matched':
        this.onMatched(e);
        break;
      case 'signal':
        if (!mine) break;
        if (e.data.kind === 'description') call.descReceived = true;
        else if (e.data.kind === 'candidates') call.candidatesReceived += e.data.candidates.length;
        break;
      case 'chat':
        if (mine && e.from === 'partner') call.partnerMessages++;
        break;
      case 'partner_reconnecting':
        if (!mine) break;
        call.partnerAway = true;
        this.ctx.disturb(call.matchId);
        break;
      default:
        break;
    }
    this.progress();
  }

  private onState(to: string, from: string, version: number): void {
    if (version <= this.version) return;
    this.version = version;
    this.state = to;
    const now = performance.now();
    const call = this.call;
    if (to === 'IN_CALL' && call && call.inCallAt === null) {
      call.inCallAt = now;
      if (!this.ctx.disturbed(call.matchId)) this.ctx.latency.matchedToInCall.record(now - call.matchedAt);
    }
    if (to === 'WAITING' || to === 'IDLE') {
      this.endCall();
      this.expectMatch = null;
    }
    if (to === 'WAITING' && from !== 'IDLE') this.requeuedAt = now;
    if ((to === 'WAITING' || to === 'IN_CALL') && !this.resuming && this.conn) this.ctx.mayDrop(this, to);
  }

  private onMatched(e: Extract<MatchEvent, { type: 'matched' }>): void {
    const now = performance.now();
    this.ctx.counters.matchedEvents++;
    if (this.enqueueSentAt !== null) this.ctx.latency.enqueueToMatched.record(now - this.enqueueSentAt);
    else if (this.requeuedAt !== null) this.ctx.latency.requeueToMatched.record(now - this.requeuedAt);
    this.enqueueSentAt = this.requeuedAt = null;
    if (e.matchId === this.expectMatch) this.expectMatch = null;
    this.endCall();
    const partnerAway = this.ctx.absentFor(e.partnerId, e.at);
    const away = partnerAway ?? this.ctx.absentFor(this.uid, e.at);
    if (away !== null) {
      this.ctx.disturb(e.matchId);
      this.ctx.ghost(e.matchId, partnerAway !== null ? e.partnerId : this.uid, e.at, away);
    }
    this.call = newCall(e.matchId, e.role, now);
  }

  private endCall(): void {
    if (this.call && this.call.inCallAt === null) this.ctx.counters.abandoned++;
    this.call = null;
  }

  /** Does what is due in the current state (see the header); safe to call at any time. */
  progress(): void {
    if (!this.conn || this.resuming || this.ctx.stopped()) return;
    const call = this.call;
    if (this.state === 'IDLE') return this.enqueue();
    if (!call || (this.expectMatch !== null && call.matchId !== this.expectMatch)) return;
    if (this.state === 'CONNECTING') this.setUp(call);
    else if (this.state === 'IN_CALL') this.talk(call);
  }

  private enqueue(): void {
    if (this.enqueuing) return;
    this.enqueuing = true;
    this.enqueueSentAt = performance.now();
    void this.mutate('match.enqueue', null, (api) => api.match.enqueue.mutate({})).then((r) => {
      this.enqueuing = false;
      if (r.ok) {
        this.ctx.counters.enqueues++;
        const { state, version } = r.value as { state: string; version: number };
        this.onState(state, 'IDLE', version);
        return this.progress();
      }
      this.enqueueSentAt = null;
      this.retrySoon();
    });
  }

  /** A step that failed (a drop, a fault) is tried again a moment later, from where it stopped. */
  private retrySoon(): void {
    setTimeout(() => this.progress(), RETRY_MS).unref();
  }

  private setUp(call: Call): void {
    const { matchId } = call;
    const describe = (type: 'offer' | 'answer') => {
      call.descSent = true;
      const sent = [
        this.mutate('signal.send', matchId, (api) => api.signal.send.mutate({ matchId, data: { kind: 'description', description: { type, sdp: fakeSdp() } } })),
        ...candidateBatches(this.ctx.candidatesPerSide, this.ctx.candidateBatches).map((candidates) =>
          this.mutate('signal.send', matchId, (api) => api.signal.send.mutate({ matchId, data: { kind: 'candidates', candidates } })),
        ),
      ];
      call.candidatesSent = Promise.all(sent).then((rs) => rs.every((r) => r.ok));
      void call.candidatesSent.then((ok) => {
        if (ok || this.call !== call) return;
        // Negotiate again (as a browser would after a reconnect): description, candidates, joined.
        call.descSent = call.joinedSent = false;
        call.candidatesSent = null;
        this.retrySoon();
      });
    };
    if (!call.descSent && (call.role === 'impolite' || call.descReceived)) describe(call.role === 'impolite' ? 'offer' : 'answer');
    if (call.joinedSent || !call.descReceived || call.candidatesReceived === 0 || !call.candidatesSent) return;
    call.joinedSent = true;
    void call.candidatesSent.then(async (ok) => {
      if (!ok || this.call !== call) return;
      const r = await this.mutate('match.joined', matchId, (api) => api.match.joined.mutate({ matchId }));
      if (r.ok || this.call !== call) return;
      call.joinedSent = false;
      this.retrySoon();
    });
  }

  private talk(call: Call): void {
    if (!call.talking) {
      call.talking = true;
      void this.chat(call);
    }
    const partnerDone = call.partnerMessages >= this.ctx.chatPerSide || call.partnerAway;
    if (!call.leaves || !call.chatsDone || !partnerDone || call.leaving) return;
    call.leaving = true;
    const how = Math.random() < this.ctx.skip ? 'skip' : 'end';
    const { matchId } = call;
    void this.mutate(`match.${how}`, matchId, (api) => api.match[how].mutate({ matchId })).then((r) => {
      if (!r.ok) {
        // Over already (then state events move us on), or to be tried again.
        if (this.call === call) {
          call.leaving = false;
          this.retrySoon();
        }
        return;
      }
      if (call.inCallAt === null) return;
      this.ctx.counters.calls++;
      this.ctx.counters[how === 'skip' ? 'skips' : 'ends']++;
      this.ctx.onCall({ matchId, how, setupMs: call.inCallAt - call.matchedAt, disturbed: this.ctx.disturbed(matchId) });
    });
  }

  /**
   * Per message: typing on, then the message (which clears the indicator on the partner's side, so
   * the web client sends no "typing off" after it); `call.chatStep` counts the steps done.
   */
  private async chat(call: Call): Promise<void> {
    const { matchId } = call;
    while (call.chatStep < 2 * this.ctx.chatPerSide) {
      const i = Math.floor(call.chatStep / 2);
      const step = call.chatStep % 2;
      // A retried message keeps its id, so the server delivers it once.
      const clientMessageId = `${matchId.slice(0, 8)}-${this.uid.slice(0, 8)}-${i}`;
      const text = `message ${i + 1} from ${this.uid.slice(0, 8)}: how is it going over there?`;
      const r =
        step === 1
          ? await this.mutate('chat.send', matchId, (api) => api.chat.send.mutate({ matchId, text, clientMessageId }))
          : await this.mutate('chat.typing', matchId, (api) => api.chat.typing.mutate({ matchId, typing: step === 0 }));
      if (this.call !== call) return;
      if (!r.ok) {
        call.talking = false;
        return this.retrySoon();
      }
      call.chatStep++;
    }
    call.chatsDone = true;
    this.progress();
  }

  /** One tRPC call, counted each way; a failure is classified (see FlowCounters), never thrown. */
  private async mutate(path: string, matchId: string | null, run: (api: FlowApi) => Promise<unknown>): Promise<{ ok: boolean; value?: unknown }> {
    const conn = this.conn;
    if (!conn) return { ok: false };
    const c = this.ctx.counters;
    bump(c.sent, path);
    try {
      const value = await run(conn.api);
      bump(c.received, `reply ${path}`);
      return { ok: true, value };
    } catch (e) {
      if (this.conn !== conn) {
        c.aborted++;
        return { ok: false };
      }
      bump(c.received, `reply ${path}`);
      if ((matchId !== null && this.ctx.disturbed(matchId)) || Date.now() - this.resumedAt < RESUME_SETTLE_MS) c.absenceRaces++;
      else {
        c.errors++;
        c.lastError = `${path}: ${e instanceof Error ? e.message : String(e)}`;
        this.ctx.onError(e);
      }
      return { ok: false };
    }
  }

  /** How long this person, connected and not resuming, has gone without an event (null if not connected). */
  quietFor(now: number): number | null {
    return this.conn && !this.resuming ? now - this.lastEventAt : null;
  }

  /** The driver closed this person's socket: they are absent from now on. */
  detach(): void {
    this.conn?.close();
    this.conn = null;
    this.absentSince = Date.now();
    this.backAt = null;
    this.enqueuing = false;
    this.enqueueSentAt = this.requeuedAt = null;
    if (this.call) this.ctx.disturb(this.call.matchId);
  }

  /** The person is connecting again: events replay but nothing is done until `resume`. */
  reconnecting(): void {
    this.resuming = true;
  }

  /** Their new socket is open: present again as far as ghost matches go. */
  opened(): void {
    this.backAt = Date.now();
  }

  /** Back (socket open, subscription resumed), with where the server says they are. */
  resume(conn: FlowConnection, me: { state: string; version: number; matchId: string | null }): void {
    this.conn = conn;
    this.resumedAt = this.lastEventAt = Date.now();
    this.onState(me.state, this.state, me.version);
    this.resuming = false;
    // The backlog may still be replaying older matches: act only on this one.
    // (A user at rest or waiting may still carry their last match id: not one to wait for.)
    const inMatch = me.state === 'CONNECTING' || me.state === 'IN_CALL';
    this.expectMatch = inMatch && me.matchId && this.call?.matchId !== me.matchId ? me.matchId : null;
    if (me.matchId) this.ctx.disturb(me.matchId);
    this.progress();
  }
}
