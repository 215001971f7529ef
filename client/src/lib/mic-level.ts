/**
 * How loud the microphone is, 0..1, for the level meter: a Web Audio AnalyserNode read once per
 * animation frame (so never faster than the screen draws, and paused in a hidden tab). The
 * returned function stops it and closes the audio context; nothing runs while no meter is shown.
 */
export function watchLevel(track: MediaStreamTrack, onLevel: (level: number) => void): () => void {
  const Ctx = window.AudioContext as typeof AudioContext | undefined;
  if (!Ctx) return () => {};
  const ctx = new Ctx();
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let frame = 0;
  const tick = () => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    // RMS of speech sits around 0.02..0.2: scale so normal talking fills most of the meter.
    onLevel(Math.min(1, Math.sqrt(sum / samples.length) * 4));
    frame = requestAnimationFrame(tick);
  };
  frame = requestAnimationFrame(tick);
  return () => {
    cancelAnimationFrame(frame);
    source.disconnect();
    void ctx.close().catch(() => null);
  };
}
