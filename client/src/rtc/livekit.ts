/**
 * LiveKit mode: the server made a room and gave us its URL and a token. livekit-client is
 * loaded only here, on demand, so direct-mode users never download it. A reload joins the same
 * room again with the same token (LIVEKIT_REJOIN_GRACE_MS keeps our place).
 */
import { PathMeter, type PathStats } from './path-stats';

export interface LivekitCallOptions {
  url: string;
  token: string;
  stream: MediaStream | null;
  onRemoteStream(stream: MediaStream): void;
  /** The room's connection dropped and LiveKit is trying to get it back. */
  onInterrupted(): void;
  onReconnected(): void;
  onDisconnected(): void;
}

export interface LivekitCall {
  /** Problem publishing our own media, in plain words, or null. */
  publishProblem: string | null;
  /** Send `track` instead of what we send of its kind, or stop sending that kind (null). */
  replaceTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void>;
  pathStats(): Promise<PathStats>;
  leave(): void;
}

export async function joinLivekit(o: LivekitCallOptions): Promise<LivekitCall> {
  const { Room, RoomEvent } = await import('livekit-client');
  const room = new Room();
  const remote = new MediaStream();
  const update = () => o.onRemoteStream(new MediaStream(remote.getTracks()));
  room.on(RoomEvent.TrackSubscribed, (track) => {
    remote.addTrack(track.mediaStreamTrack);
    update();
  });
  room.on(RoomEvent.TrackUnsubscribed, (track) => {
    remote.removeTrack(track.mediaStreamTrack);
    update();
  });
  room.on(RoomEvent.Reconnecting, () => o.onInterrupted());
  room.on(RoomEvent.Reconnected, () => o.onReconnected());
  room.on(RoomEvent.Disconnected, () => o.onDisconnected());
  try {
    await room.connect(o.url, o.token);
  } catch (e) {
    void room.disconnect();
    throw e;
  }
  const published = new Map<'audio' | 'video', MediaStreamTrack>();
  let publishProblem: string | null = null;
  try {
    for (const track of o.stream?.getTracks() ?? []) {
      await room.localParticipant.publishTrack(track);
      published.set(track.kind as 'audio' | 'video', track);
    }
  } catch {
    publishProblem = "Your video couldn't be sent; you can still see your partner and chat.";
  }
  const meter = new PathMeter();
  return {
    publishProblem,
    async replaceTrack(kind, track) {
      const old = published.get(kind);
      if (old) await room.localParticipant.unpublishTrack(old, false);
      published.delete(kind);
      if (!track) return;
      await room.localParticipant.publishTrack(track);
      published.set(kind, track);
    },
    async pathStats() {
      const reports: RTCStatsReport[] = [];
      for (const p of room.remoteParticipants.values()) {
        for (const pub of p.trackPublications.values()) {
          const r = await pub.track?.getRTCStatsReport();
          if (r) reports.push(r);
        }
      }
      return meter.read(reports);
    },
    leave: () => void room.disconnect(),
  };
}
