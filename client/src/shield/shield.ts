/**
 * The shield on a running call: samples the partner's video every SAMPLE_MS, hands each frame to
 * the classifier and the verdict to the policy (policy.ts), and says what the stage shows. Frames
 * never leave the page: the only picture that can is the one captured when explicit frames become
 * sustained, and only if the person sends it with a report.
 */
import { createEffect, createSignal, onCleanup, untrack } from 'solid-js';
import { videoFrame } from '../lib/snapshot';
import type { Classifier } from './classifier';
import { initialState, isBlurred, observe, reveal, type ShieldMode } from './policy';

// Two frames a second (docs/benchmarks.md, "Nudity shield"): a frame takes ~65 ms on the worker
// (WebAssembly, 2 cores, no GPU), so this costs ~13-16% of one core; an explicit frame is blurred
// within ~0.6 s and a safe partner clears ~1.5 s after the model is loaded (SAFE_TO_CLEAR frames).
// One a second halves the CPU but doubles both waits; four a second doubles the CPU (26%).
export const SAMPLE_MS = 500;
/** The model's input size (MobileNetV2, 224x224): the page scales, so only that much crosses to the worker. */
const SIZE = 224;

export function createShield(opts: {
  mode: () => ShieldMode;
  /** The partner's <video>, once it is in the page. */
  video: () => HTMLVideoElement | undefined;
  /** Changes with each partner (the match id): a new partner starts blurred again. */
  partner: () => string | undefined;
  /** Started on the first call that needs it, then kept for the page (the model loads once). */
  classifier: () => Classifier;
}) {
  const [state, setState] = createSignal(initialState(untrack(opts.mode)));
  const [flagged, setFlagged] = createSignal<string | null>(null);
  const [unavailable, setUnavailable] = createSignal(false);

  createEffect(() => {
    const mode = opts.mode();
    const video = opts.video();
    opts.partner();
    setState(initialState(mode));
    setFlagged(null);
    if (mode === 'off' || !video) return;
    let busy = false;
    let live = true;
    const tick = async () => {
      if (busy || video.readyState < 2 || video.videoWidth === 0) return;
      busy = true;
      try {
        const frame = await createImageBitmap(video, { resizeWidth: SIZE, resizeHeight: SIZE, resizeQuality: 'low' });
        const verdict = await untrack(opts.classifier).classify(frame);
        if (!live) return;
        const before = state();
        const next = observe(before, mode, verdict);
        // The picture a report would carry: this moment's frame, taken as it becomes sustained.
        if (next.sustained && !before.sustained) setFlagged(videoFrame(video));
        setState(next);
      } catch {
        if (live) setUnavailable(true);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), SAMPLE_MS);
    onCleanup(() => {
      live = false;
      clearInterval(timer);
    });
  });

  return {
    blurred: () => isBlurred(state()),
    reblurred: () => state().reblurred,
    sustained: () => state().sustained,
    /** The frame captured when explicit frames became sustained (base64 JPEG), for a report. */
    flagged,
    /** The classifier failed: the video stays as the mode leaves it, and the page says the check is off. */
    unavailable,
    reveal: () => setState(reveal(state())),
  };
}

export type Shield = ReturnType<typeof createShield>;
