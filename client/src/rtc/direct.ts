/**
 * A direct (browser to browser) call using "perfect negotiation": both sides run the same code
 * and a glare (two offers at once) is settled by role: the polite side yields, the impolite one
 * ignores the other's offer. The server's `role` makes the impolite side (the newcomer) offer first;
 * the polite side adds its own tracks only when answering, so normally there is no glare at all.
 * ICE servers (STUN/TURN) come from the server's ICE_SERVERS setting in the `matched` event;
 * none are needed on one machine or one network (host candidates).
 */
import type { SignalData } from '../../../server/events/types';

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
  /** Our camera/microphone, or null to only receive (text-only on our side). */
  stream: MediaStream | null;
  send(data: SignalData): void;
  onRemoteStream(stream: MediaStream): void;
  onConnected(): void;
  onFailed(): void;
}

export class DirectCall {
  private readonly pc: RTCPeerConnection;
  private readonly remote = new MediaStream();
  private makingOffer = false;
  private ignoreOffer = false;
  private localAdded = false;
  // Incoming signals are applied one at a time, so a candidate never races its description.
  private queue: Promise<void> = Promise.resolve();
  private gathered: Candidate[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: DirectCallOptions) {
    const pc = (this.pc = new RTCPeerConnection({ iceServers: o.iceServers ?? [] }));
    pc.ontrack = ({ track }) => {
      this.remote.addTrack(track);
      // A new MediaStream object each time, so the <video> element is told about the new track.
      o.onRemoteStream(new MediaStream(this.remote.getTracks()));
    };
    pc.onicecandidate = ({ candidate: c }) => {
      if (!c) return this.flushCandidates(); // gathering is complete
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
      else if (pc.connectionState === 'failed') o.onFailed();
    };
    if (!o.polite) this.addLocal();
  }

  /** Our tracks, plus receive-only slots for whatever we lack, so the partner's media always has a way in. */
  private addLocal(): void {
    if (this.localAdded) return;
    this.localAdded = true;
    const stream = this.o.stream;
    for (const track of stream?.getTracks() ?? []) this.pc.addTrack(track, stream!);
    for (const kind of ['audio', 'video'] as const) {
      if (!this.pc.getTransceivers().some((t) => t.receiver.track.kind === kind)) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    }
  }

  private flushCandidates(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.gathered.length === 0) return;
    this.o.send({ kind: 'candidates', candidates: this.gathered });
    this.gathered = [];
  }

  private sendLocalDescription(): void {
    const d = this.pc.localDescription;
    if (d) this.o.send({ kind: 'description', description: { type: d.type, sdp: d.sdp } });
  }

  handle(data: SignalData): void {
    this.queue = this.queue.then(() => this.apply(data)).catch((e: unknown) => console.warn('[call] signal failed', e));
  }

  private async apply(data: SignalData): Promise<void> {
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
