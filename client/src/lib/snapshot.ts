/**
 * A frame of a <video> as base64 JPEG, small enough to travel with a report (the server's
 * REPORT_SNAPSHOT_MAX_BYTES, 40 KB by default): scaled to at most 320 pixels wide, and the
 * quality lowered until it fits. Null when there is no picture (no video yet, or nothing fits).
 */
const MAX_WIDTH = 320;
const QUALITIES = [0.7, 0.5, 0.3];

export function videoFrame(video: HTMLVideoElement | null, maxBytes = 40_960): string | null {
  if (!video || video.videoWidth === 0) return null;
  const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  for (const q of QUALITIES) {
    const b64 = canvas.toDataURL('image/jpeg', q).split(',')[1] ?? '';
    // base64 is 4 characters per 3 bytes.
    if (b64 && (b64.length * 3) / 4 <= maxBytes) return b64;
  }
  return null;
}
