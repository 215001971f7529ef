/**
 * Asking the browser for a camera and microphone, and saying in plain words why it failed.
 * Only the kinds of device that exist are requested, so a laptop without a microphone still
 * gets video. The media store (stores/media.ts) is the only caller.
 */

export type Kind = 'audio' | 'video';

/** Why there is no camera/microphone, for a person. */
export function mediaProblem(e: unknown): { text: string; denied: boolean } {
  const name = e instanceof DOMException ? e.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return { text: "Camera and microphone access wasn't allowed. You can allow it in your browser's site settings, or chat by text.", denied: true };
  if (name === 'NotReadableError')
    return { text: 'Another app may be using your camera or microphone. Close it and try again, or chat by text.', denied: false };
  if (name === 'NotFoundError' || name === 'OverconstrainedError')
    return { text: 'No camera or microphone was found. You can still chat by text.', denied: false };
  return { text: "Your camera couldn't be started. You can still chat by text.", denied: false };
}

/** Which kinds of device the browser can see (before permission the labels are empty, the kinds are not). */
export async function presentKinds(): Promise<Set<Kind>> {
  const list = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  const kinds = new Set<Kind>();
  for (const d of list) {
    if (d.kind === 'audioinput') kinds.add('audio');
    if (d.kind === 'videoinput') kinds.add('video');
  }
  return kinds;
}

/** One track of a kind, from a chosen device (exact) or any. */
export async function openTrack(kind: Kind, deviceId?: string): Promise<MediaStreamTrack> {
  const c: MediaTrackConstraints | boolean = deviceId ? { deviceId: { exact: deviceId } } : true;
  const s = await navigator.mediaDevices.getUserMedia(kind === 'video' ? { video: c } : { audio: c });
  const track = s.getTracks()[0];
  if (!track) throw new DOMException('No track', 'NotFoundError');
  return track;
}
