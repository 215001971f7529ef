import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { connectUser } from '../support/client';

/**
 * stats.online: people connected now and people waiting, over every process and every pool
 * (run on a Redis Cluster too, where each pool is its own hash tag), cached per process.
 */
// The liveness window (HEARTBEAT_TIMEOUT_MS) is 1 s, not less: with 400 ms a CI run at load 13 on
// two cores stalled the servers long enough that a waiting person was found silent, lost their
// place after the grace, and "waiting" read 0 instead of 1. These tests count people; how fast a
// drop is found is presence's tests' subject.
const FAST = { HEARTBEAT_INTERVAL_MS: '100', HEARTBEAT_TIMEOUT_MS: '1000', PRESENCE_SWEEP_INTERVAL_MS: '50', RECONNECT_GRACE_MS: '300' };

describe('stats.online', () => {
  it('counts the people connected to any process and the people waiting in any pool', async () => {
    await using one = await startTestApp({ ...FAST, STATS_CACHE_MS: '50' });
    await using two = await startTestApp(
      { ...FAST, ...one.redisEnv, STATS_CACHE_MS: '50' },
      { redisUrl: one.redisUrl, prefix: one.prefix, databaseUrl: one.databaseUrl },
    );
    await using ann = await connectUser(one.url);
    await using bob = await connectUser(two.url);
    await using cid = await connectUser(two.url);
    await using dee = await connectUser(one.url);
    await expect.poll(() => ann.api.stats.online.query()).toEqual({ online: 4, waiting: 0 });

    await bob.api.match.enqueue.mutate({ language: 'de' });
    await cid.api.match.enqueue.mutate({ language: 'fr', region: 'eu' });
    await expect.poll(() => ann.api.stats.online.query()).toEqual({ online: 4, waiting: 2 });
    // Dee's page is gone: no longer counted once last-seen is older than HEARTBEAT_TIMEOUT_MS.
    await dee.close();
    await expect.poll(() => bob.api.stats.online.query(), { timeout: 3000 }).toEqual({ online: 3, waiting: 2 });
    // A pair made leaves the queue.
    await using eve = await connectUser(one.url);
    await eve.api.match.enqueue.mutate({ language: 'de' });
    await expect.poll(() => eve.api.stats.online.query()).toEqual({ online: 4, waiting: 1 });
  });

  it('a process answers from its cache for STATS_CACHE_MS: new arrivals show after it, or at once on a process that had not counted', async () => {
    await using one = await startTestApp({ ...FAST, STATS_CACHE_MS: '600000' });
    await using two = await startTestApp(
      { ...FAST, ...one.redisEnv, STATS_CACHE_MS: '600000' },
      { redisUrl: one.redisUrl, prefix: one.prefix, databaseUrl: one.databaseUrl },
    );
    await using ann = await connectUser(one.url);
    // A heartbeat is a sign of life once it has answered (a new socket's is not awaited).
    await ann.api.presence.heartbeat.mutate();
    expect(await ann.api.stats.online.query()).toEqual({ online: 1, waiting: 0 });
    await using bob = await connectUser(two.url);
    await bob.api.match.enqueue.mutate({});
    expect(await ann.api.stats.online.query()).toEqual({ online: 1, waiting: 0 });
    expect(await bob.api.stats.online.query()).toEqual({ online: 2, waiting: 1 });
  });
});
