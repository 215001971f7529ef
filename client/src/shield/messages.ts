/** What the page and the classifier worker say to each other (classifier.worker.ts). */
import type { Scores } from './policy';

export type Backend = 'wasm' | 'cpu' | 'webgl';

export interface ToWorker {
  id: number;
  /** 224x224, transferred: the worker closes it. */
  frame: ImageBitmap;
}

export type FromWorker =
  | { type: 'ready'; backend: Backend; loadMs: number }
  | { type: 'error'; message: string }
  | { type: 'scores'; id: number; scores: Partial<Scores> }
  | { type: 'failed'; id: number; message: string };
