/**
 * The nudity classifier, off the main thread: nsfwjs' bundled MobileNetV2 (from the npm package,
 * built into this worker's own chunks; no network), on TensorFlow.js' WebAssembly backend (SIMD),
 * or its plain JavaScript one where WebAssembly cannot start (see ORDER). Frames arrive as 224x224
 * ImageBitmaps and go back as the five class scores. The worker loads the model as soon as it
 * starts and says 'ready' with the backend and the time it took.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { load, type NSFWJS } from 'nsfwjs/core';
import { MobileNetV2Model } from 'nsfwjs/models/mobilenet_v2';
import type { Backend, FromWorker, ToWorker } from './messages';

// All three are required here; the threaded one is fetched only where SharedArrayBuffer exists (a
// cross-origin-isolated page, which this one is not), so it is never downloaded.
setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });

const post = (m: FromWorker, transfer: Transferable[] = []) => self.postMessage(m, { transfer });

/**
 * Backends to try, in order. WebAssembly with SIMD measured fastest on a machine without a GPU
 * (docs/benchmarks.md "Nudity shield"); the plain JavaScript backend always starts. The worker's
 * name, given only by bench:shield, picks one backend to measure it alone.
 */
const ORDER: Record<string, Backend[]> = { wasm: ['wasm'], cpu: ['cpu'], webgl: ['webgl'] };
const DEFAULT_ORDER: Backend[] = ['wasm', 'cpu'];

async function start(): Promise<NSFWJS> {
  const t0 = performance.now();
  tf.enableProdMode();
  let backend: Backend | undefined;
  for (const b of ORDER[self.name] ?? DEFAULT_ORDER) {
    if (await tf.setBackend(b).catch(() => false)) {
      backend = b;
      break;
    }
  }
  if (!backend) throw new Error('no TensorFlow.js backend could start');
  await tf.ready();
  const model = await load('MobileNetV2', { modelDefinitions: [MobileNetV2Model] });
  post({ type: 'ready', backend, loadMs: performance.now() - t0 });
  return model;
}

const canvas = new OffscreenCanvas(224, 224);
const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
const model = start();
model.catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e) }));

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const { id, frame } = e.data;
  try {
    const m = await model;
    ctx.drawImage(frame, 0, 0, 224, 224);
    const predictions = await m.classify(ctx.getImageData(0, 0, 224, 224));
    const scores = Object.fromEntries(predictions.map((p) => [p.className, p.probability]));
    post({ type: 'scores', id, scores });
  } catch (err) {
    post({ type: 'failed', id, message: err instanceof Error ? err.message : String(err) });
  } finally {
    frame.close();
  }
};
