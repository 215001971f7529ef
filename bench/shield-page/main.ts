/**
 * bench:shield's page: the client's own classifier (client/src/shield/classifier.ts and its
 * worker) on the fake camera's video, driven from bench/shield.ts through `window.__shield`.
 * Every time is taken here, in the page, so playwright's round trips never count.
 */
import { workerClassifier, type Classifier, type WorkerStats } from '../../client/src/shield/classifier';
import type { Backend } from '../../client/src/shield/messages';
import type { Verdict } from '../../client/src/shield/policy';

const SIZE = 224;
const video = document.querySelector('video')!;
let classifier: Classifier | null = null;
const verdicts: Record<Verdict, number> = { safe: 0, explicit: 0 };

async function frame(): Promise<number> {
  const t0 = performance.now();
  const bitmap = await createImageBitmap(video, { resizeWidth: SIZE, resizeHeight: SIZE, resizeQuality: 'low' });
  verdicts[await classifier!.classify(bitmap)]++;
  return performance.now() - t0;
}

const api = {
  /** Camera on and playing, then the worker started and its model loaded: ms from new Worker to ready, and the worker's own figure. */
  async start(only: Backend | ''): Promise<WorkerStats & { pageLoadMs: number }> {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true });
    await video.play();
    const t0 = performance.now();
    const ready = new Promise<WorkerStats>((onReady) => (classifier = workerClassifier({ onReady, only: only || undefined })));
    const stats = await ready;
    return { ...stats, pageLoadMs: performance.now() - t0 };
  },
  /** `n` frames back to back: scale (createImageBitmap), hand over, classify; ms each. */
  async frames(n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await frame());
    return out;
  },
  /** As the shield samples (shield.ts): a frame every `everyMs` unless one is still out, for `seconds`. */
  async sample(everyMs: number, seconds: number): Promise<number> {
    let busy = false;
    let done = 0;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void frame().then(() => (done++, (busy = false)));
    }, everyMs);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(timer);
    return done;
  },
  /** The baseline: one plain canvas draw of the video at 224x224 and getImageData, ms each. */
  baseline(n: number): number[] {
    const ctx = Object.assign(document.createElement('canvas'), { width: SIZE, height: SIZE }).getContext('2d', { willReadFrequently: true })!;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      ctx.drawImage(video, 0, 0, SIZE, SIZE);
      ctx.getImageData(0, 0, SIZE, SIZE);
      out.push(performance.now() - t0);
    }
    return out;
  },
  verdicts: () => verdicts,
};

(window as unknown as { __shield: typeof api }).__shield = api;
