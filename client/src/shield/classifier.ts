/**
 * What the shield asks of a classifier, and the one production uses: nsfwjs in a Web Worker
 * (classifier.worker.ts, its own chunks), started only when the first call needs it.
 *
 * Test seam: a page that defines `window.__rendezvousShieldVerdicts` (an array) before the app
 * starts, as the browser tests do with an init script, gets `withScriptedVerdicts`: while the
 * array holds verdicts, each frame takes the next one instead of the model's; once it is empty,
 * the real model answers. Nothing in the app writes it, and it changes only what this page shows
 * to the person who set it, so it opens nothing to anyone else.
 */
import type { Backend, FromWorker, ToWorker } from './messages';
import { verdictOf, type Verdict } from './policy';

export interface Classifier {
  /** The verdict on one 224x224 frame; the classifier closes the bitmap. */
  classify(frame: ImageBitmap): Promise<Verdict>;
}

export interface WorkerStats {
  backend: Backend;
  loadMs: number;
}

/** `only`: that backend alone (bench:shield compares them); by default the worker's own order. */
export function workerClassifier(opts: { onReady?: (s: WorkerStats) => void; only?: Backend } = {}): Classifier {
  const worker = new Worker(new URL('./classifier.worker.ts', import.meta.url), { type: 'module', name: opts.only ?? '' });
  const waiting = new Map<number, { resolve: (v: Verdict) => void; reject: (e: Error) => void }>();
  let failed: Error | null = null;
  let nextId = 1;
  const fail = (message: string) => {
    failed = new Error(`The safety check could not start: ${message}`);
    for (const w of waiting.values()) w.reject(failed);
    waiting.clear();
  };
  worker.onerror = (e) => fail(e.message || 'the worker did not load');
  worker.onmessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    if (m.type === 'ready') return opts.onReady?.({ backend: m.backend, loadMs: m.loadMs });
    if (m.type === 'error') return fail(m.message);
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.type === 'scores') w?.resolve(verdictOf(m.scores));
    else w?.reject(new Error(m.message));
  };
  return {
    classify(frame) {
      if (failed) {
        frame.close();
        return Promise.reject(failed);
      }
      const id = nextId++;
      return new Promise<Verdict>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, frame } satisfies ToWorker, [frame]);
      });
    },
  };
}

declare global {
  interface Window {
    /** The test seam described above. */
    __rendezvousShieldVerdicts?: Verdict[];
  }
}

export function withScriptedVerdicts(real: Classifier, script: Verdict[]): Classifier {
  return {
    classify(frame) {
      const next = script.shift();
      if (!next) return real.classify(frame);
      frame.close();
      return Promise.resolve(next);
    },
  };
}

/** The production classifier, or the scripted one when a test set the seam. */
export function pageClassifier(): Classifier {
  const real = workerClassifier();
  const script = window.__rendezvousShieldVerdicts;
  return Array.isArray(script) ? withScriptedVerdicts(real, script) : real;
}

/** The page's classifier, made on first use (the first call that needs it) and kept: the model loads once. */
export function lazyClassifier(make: () => Classifier = pageClassifier): () => Classifier {
  let made: Classifier | undefined;
  return () => (made ??= make());
}
