/**
 * LiveKit mode: the server made a room and gave us its URL and a token. livekit-client is
 * loaded only here, on demand, so direct-mode users never download it.
 */
export interface LivekitCallOptions {
  url: string;
  token: string;
  stream: MediaStream | null;
  onRemoteStream(stream: MediaStream): void;
  onDisconnected(): void;
}

export interface LivekitCall {
  /** Problem publishing our own media, in plain words, or null. */
  publishProblem: string | null;
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
  room.on(RoomEvent.Disconnected, () => o.onDisconnected());
  try {
    await room.connect(o.url, o.token);
  } catch (e) {
    void room.disconnect();
    throw e;
  }
  let publishProblem: string | null = null;
  try {
    for (const track of o.stream?.getTracks() ?? []) await room.localParticipant.publishTrack(track);
  } catch {
    publishProblem = "Your video couldn't be sent; you can still see your partner and chat.";
  }
  return { publishProblem, leave: () => void room.disconnect() };
}
