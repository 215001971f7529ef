import { defineConfig } from 'vitest/config';

// Not vite's root (client/): tests live at the repo root.
export default defineConfig({
  test: {
    root: '.',
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and processes; two cores, so keep workers few.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
