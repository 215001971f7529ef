/**
 * Asking for the camera and microphone. Only the devices that exist are requested, so a
 * laptop without a microphone still gets video; every failure becomes a plain sentence and
 * the call carries on by text.
 */
import type { DeviceSummary } from '../stores/devices';

export interface LocalMedia {
  stream: MediaStream | null;
  /** Why there is less than camera + microphone, in plain words; null when all is well. */
  problem: string | null;
}

const TEXT_ONLY = 'Camera unavailable: chatting by text only.';

export async function getLocalMedia(d: DeviceSummary): Promise<LocalMedia> {
  if (!d.supported) return { stream: null, problem: TEXT_ONLY };
  const video = d.cameras > 0;
  const audio = d.microphones > 0;
  if (!video && !audio) return { stream: null, problem: `${TEXT_ONLY} No camera or microphone was found.` };
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ video, audio });
    return {
      stream,
      problem: video
        ? audio
          ? null
          : 'No microphone found: your partner can see you but not hear you.'
        : 'No camera found: your partner can hear you but not see you.',
    };
  } catch (e) {
    const name = e instanceof DOMException ? e.name : '';
    if (name === 'NotAllowedError' || name === 'SecurityError') return { stream: null, problem: `${TEXT_ONLY} Camera access was not allowed.` };
    if (name === 'NotReadableError') return { stream: null, problem: `${TEXT_ONLY} Another app may be using your camera.` };
    return { stream: null, problem: TEXT_ONLY };
  }
}

export function stopStream(stream: MediaStream | null): void {
  for (const t of stream?.getTracks() ?? []) t.stop();
}
