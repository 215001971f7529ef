/**
 * A direct (browser to browser) call using "perfect negotiation": both sides run the same code
 * and a glare (two offers at once) is settled by role: the polite side yields, the impolite one
 * ignores the other's offer. The server's `role` makes the impolite side (the newcomer) offer first;
 * the polite side adds its own tracks only when answering, so normally there is no glare at all.
 * ICE servers (STUN, and TURN with this user's own credentials) come in the `matched` event;
 * none are needed on one machine or one network (host candidates). `relayOnly` (IP privacy)
 * gathers relay candidates only, so the partner never learns this device's address.
 *
 * Every peer connection has an id, and every signal says which connection sent it (`from`) and,
 * once known, which one it is for (`to`). A page that reloads mid-call starts a new connection
 * and says so (`connected`, sent first by every new connection): the partner then replaces its
 * own (see call.ts), and signals meant for either side's old connection are dropped.
 */
import type { SignalData } from '../../../server/events/types';
import { newId } from '../lib/ids';
import { PathMeter, type PathStats } from './path-stats';

/** A signal with the ids of the connections it is from and for. */
export type Signal = SignalData & { from?: string; to?: string };
type Candidate = Extract<SignalData, { kind: 'candidates' }>['candidates'][number];

/**
 * ICE candidates gathered within this long of the first are sent in one signal: a browser finds
 * its host candidates within a few ms and the server-reflexive ones a STUN round trip later, so a
 * call needs two or three signals instead of one per candidate.
 */
export const CANDIDATE_BATCH_MS = 20;
/** The most candidates one signal may carry (the server's bound). */
const MAX_BATCH = 20;

export interface DirectCallOptions {
  polite: boolean;
  iceServers?: RTCIceServer[];
  /** iceTransportPolicy 'relay': every path goes through the TURN server. */
  relayOnly?: boolean;
  /** Our camera/microphone now (devices may change during the call), or null to only receive (text-only on our side). */
  stream(): MediaStream | null;
  send(data: Signal): void;
  onRemoteStream(stream: MediaStream): void;
  /** Connected, or connected again after an interruption. */
  onConnected(): void;
  /** The path stopped carrying media for a moment (the browser may still recover it). */
  onInterrupted(): void;
  /** No media path, even after one ICE restart. */
  onFailed(): void;
}

export class DirectCall {
  /** This connection's id (`from` on everything it sends). */
  readonly id = newId();
  /** The partner's connection this one talks to, once a signal from it arrived. */
  remoteId: string | null = null;
  private readonly pc: RTCPeerConnection;
  private readonly meter = new PathMeter();
  /** ICE has been restarted once (a failure after that is final). */
  private restarted = false;
  /** This gathering round found at least one candidate (none: nothing can connect, e.g. relay only and no TURN reachable). */
  private gatheredAny = false;
  private readonly remote = new MediaStream();
  private makingOffer = false;
  private ignoreOffer = false;
  private localAdded = false;
  // Incoming signals are applied one at a time, so a candidate never races its description.
  private queue: Promise<void> = Promise.resolve();
  private gathered: Candidate[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: DirectCallOptions) {
    const pc = (this.pc = new RTCPeerConnection({ iceServers: o.iceServers ?? [], iceTransportPolicy: o.relayOnly ? 'relay' : 'all' }));
    pc.ontrack = ({ track }) => {
      this.remote.addTrack(track);
      // A new MediaStream object each time, so the <video> element is told about the new track.
      o.onRemoteStream(new MediaStream(this.remote.getTracks()));
    };
    pc.onicecandidate = ({ candidate: c }) => {
      if (!c) {
        // Gathering is complete. With no candidate at all there is no path to try: fail now, not after ICE's timeouts.
        if (!this.gatheredAny) this.fail();
        return this.flushCandidates();
      }
      this.gatheredAny = true;
      this.gathered.push({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
      if (this.gathered.length >= MAX_BATCH) this.flushCandidates();
      else this.flushTimer ??= setTimeout(() => this.flushCandidates(), CANDIDATE_BATCH_MS);
    };
    pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await pc.setLocalDescription();
        this.sendLocalDescription();
      } catch (e) {
        console.warn('[call] offer failed', e);
      } finally {
        this.makingOffer = false;
      }
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') o.onConnected();
      else if (pc.connectionState === 'disconnected') o.onInterrupted();
      else if (pc.connectionState === 'failed') this.fail();
    };
    if (!o.polite) this.addLocal();
    this.send({ kind: 'connected' });
  }

  /** The first failure restarts ICE (new candidates, perhaps a path that works now); the second is final. */
  private fail(): void {
    if (this.pc.signalingState === 'closed') return;
    if (this.restarted) return this.o.onFailed();
    this.restarted = true;
    this.gatheredAny = false;
    this.pc.restartIce();
  }

  private send(data: SignalData): void {
    this.o.send({ ...data, from: this.id, ...(this.remoteId ? { to: this.remoteId } : {}) });
  }

  /** True once this connection has heard from a partner connection. */
  get paired(): boolean {
    return this.remoteId !== null;
  }

  /**
   * Send `track` instead of whatever this connection sends of its kind (a camera picked, a
   * device back after a loss) or stop sending that kind (null). A slot that only received until
   * now starts sending too, which renegotiates.
   */
  async replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    const t = this.pc.getTransceivers().find((x) => x.receiver.track.kind === kind && x.currentDirection !== 'stopped');
    if (!t) {
      if (track) this.pc.addTrack(track, this.o.stream() ?? new MediaStream([track]));
      return;
    }
    await t.sender.replaceTrack(track);
    if (track && (t.direction === 'recvonly' || t.direction === 'inactive')) t.direction = 'sendrecv';
  }

  /** Round-trip time of the path in use and the loss on what we receive since the last reading. */
  async pathStats(): Promise<PathStats> {
    return this.meter.read([await this.pc.getStats()]);
  }

  /** Our tracks, plus receive-only slots for whatever we lack, so the partner's media always has a way in. */
  private addLocal(): void {
    if (this.localAdded) return;
    this.localAdded = true;
    const stream = this.o.stream();
    for (const track of stream?.getTracks() ?? []) this.pc.addTrack(track, stream!);
    for (const kind of ['audio', 'video'] as const) {
      if (!this.pc.getTransceivers().some((t) => t.receiver.track.kind === kind)) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    }
  }

  private flushCandidates(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.gathered.length === 0) return;
    this.send({ kind: 'candidates', candidates: this.gathered });
    this.gathered = [];
  }

  private sendLocalDescription(): void {
    const d = this.pc.localDescription;
    if (d) this.send({ kind: 'description', description: { type: d.type, sdp: d.sdp } });
  }

  /** A signal from the partner's connection; call.ts has already checked it is for this one. */
  handle(data: Signal): void {
    if (data.from) this.remoteId ??= data.from;
    this.queue = this.queue.then(() => this.apply(data)).catch((e: unknown) => console.warn('[call] signal failed', e));
  }

  private async apply(data: Signal): Promise<void> {
    const pc = this.pc;
    if (pc.signalingState === 'closed') return;
    if (data.kind === 'description') {
      const d = data.description;
      const collision = d.type === 'offer' && (this.makingOffer || pc.signalingState !== 'stable');
      this.ignoreOffer = !this.o.polite && collision;
      if (this.ignoreOffer) return;
      await pc.setRemoteDescription(d);
      if (d.type === 'offer') {
        // Adding our tracks now reuses the offer's transceivers, so the answer carries them.
        this.addLocal();
        await pc.setLocalDescription();
        this.sendLocalDescription();
      }
    } else if (data.kind === 'candidates') {
      for (const c of data.candidates) {
        try {
          await pc.addIceCandidate(c);
        } catch (e) {
          if (!this.ignoreOffer) throw e; // candidates of an offer we ignored are expected to fail
        }
      }
    }
  }

  close(): void {
    const pc = this.pc;
    pc.ontrack = pc.onicecandidate = pc.onnegotiationneeded = pc.onconnectionstatechange = null;
    clearTimeout(this.flushTimer);
    pc.close();
  }
}
