import { defineConfig } from 'vitest/config';

/** The suites that also run against a Redis Cluster (3 masters + 3 replicas, started once per run). */
const ON_CLUSTER = ['tests/{state,match,presence,audit,events,safety}/**/*.test.ts'];
/**
 * Not on the cluster: resend.test.ts loses replies in a TCP proxy in front of one Redis, and a
 * cluster client connects to the addresses the cluster announces, around any proxy. The files
 * that use only Postgres, or no service at all, would only run again. age.test.ts's 10,000
 * arrivals test where minors' pools are chosen (in TypeScript, before any script): on one Redis.
 */
const NOT_ON_CLUSTER = [
  'tests/state/resend.test.ts',
  'tests/audit/{dead-letter-queue,migrations,records,retention,storable,views}.test.ts',
  'tests/safety/{age,moderation-views,text-safety}.test.ts',
];

// Not vite's root (client/): tests live at the repo root.
export default defineConfig({
  test: {
    root: '.',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start real servers and processes; two cores, so keep workers few.
    maxWorkers: 2,
    fileParallelism: true,
    projects: [
      // One after the other (groupOrder): the cluster's six redis-servers never add to the load of
      // the timing-sensitive suites (chaos) of the first project on two cores.
      { extends: true, test: { name: 'redis', include: ['tests/**/*.test.ts'], sequence: { groupOrder: 0 } } },
      {
        extends: true,
        test: { name: 'cluster', include: ON_CLUSTER, exclude: NOT_ON_CLUSTER, globalSetup: ['tests/support/cluster-setup.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
