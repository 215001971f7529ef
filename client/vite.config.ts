/**
 * Vite config for the client. It is run from the repo root (`vite build --config client/vite.config.ts`),
 * so every path is resolved from this file's folder rather than the working directory.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import solid from 'vite-plugin-solid';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  plugins: [solid()],
  // Module workers: the nudity shield's classifier worker loads its model in chunks of its own
  // (dynamic imports), which the default 'iife' worker format cannot split.
  worker: { format: 'es' },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // livekit-client (~530 kB) is its own chunk, loaded only for LiveKit-mode calls.
    chunkSizeWarningLimit: 600,
  },
  server: {
    // In development the API server runs separately; one proxy entry covers HTTP (/trpc/...) and the WebSocket (/trpc).
    proxy: {
      '/trpc': { target: 'http://localhost:3000', ws: true },
    },
  },
});
