/**
 * Versions across a Redis data loss: a user's (user, version) pairs stay unique in the audit
 * trail whether the rebuild restored them from a checkpoint or they were first seen again later;
 * and state scripts sent around the reconnect wait for the epoch check instead of landing on the
 * empty Redis first.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { stateTransitions } from '../../server/audit/schema';
import type { TestApp } from '../support/app';
import { startTestApp } from '../support/app';
import { connectUser } from '../support/client';
import { startRedisServer } from '../support/redis-server';

async function versionsOf(app: TestApp, uid: string): Promise<number[]> {
  // By hand (no background jobs here); the first round after Redis lost its data meets NOGROUP and
  // recreates the consumer group, as the running drain does.
  await expect
    .poll(
      () =>
        app.server.drain.flush().then(
          () => true,
          () => false,
        ),
      { timeout: 5000 },
    )
    .toBe(true);
  const rows = await app.server.services.database.db
    .select({ version: stateTransitions.version })
    .from(stateTransitions)
    .where(eq(stateTransitions.userId, uid));
  return rows.map((r) => r.version).sort((a, b) => a - b);
}

const unique = (xs: number[]) => new Set(xs).size === xs.length;

describe('versions across a Redis data loss', () => {
  it('restored users continue from their checkpoint, users first seen later from the audit trail: no (user, version) twice', async () => {
    await using redis = await startRedisServer({ appendonly: false });
    await using app = await startTestApp(
      { REDIS_RECONNECT_MAX_MS: '100', MATCH_SWEEP_INTERVAL_MS: '600000' },
      { redisUrl: redis.url, prefix: 'rv', background: false },
    );
    const { store, checkpoints } = app.server.services;
    await using ann = await connectUser(app.url);
    await using bob = await connectUser(app.url);
    // Ann: WAITING at v3 (in the checkpoint). Bob: IDLE at v2 (not in it: only active users are).
    await ann.api.match.enqueue.mutate({ language: 'fr' });
    await ann.api.match.cancel.mutate();
    await ann.api.match.enqueue.mutate({ language: 'fr' });
    await bob.api.match.enqueue.mutate({ language: 'it' });
    await bob.api.match.cancel.mutate();
    expect(await checkpoints.snapshot()).toMatchObject({ users: 1 });
    expect(await versionsOf(app, ann.userId)).toEqual([1, 2, 3]);
    expect(await versionsOf(app, bob.userId)).toEqual([1, 2]);

    await redis.kill('SIGKILL');
    await redis.restart(); // no AOF: it comes back empty
    await expect.poll(async () => (await store.getUser(ann.userId)).state, { timeout: 5000, interval: 50 }).toBe('WAITING');
    expect((await store.getUser(ann.userId)).version).toBe(4); // the rebuild's forced transition, after v3

    // Bob comes back: his first read seeds him from the audit trail (his pool too), and his next move is v3.
    expect(await store.getUser(bob.userId)).toMatchObject({ state: 'IDLE', version: 2, pool: 'it' });
    const r = await bob.api.match.enqueue.mutate({ language: 'it' });
    expect(r.version).toBe(3);
    await ann.api.match.cancel.mutate();

    const annVersions = await versionsOf(app, ann.userId);
    const bobVersions = await versionsOf(app, bob.userId);
    expect(annVersions).toEqual([1, 2, 3, 4, 5]);
    expect(bobVersions).toEqual([1, 2, 3]);
    expect(unique(annVersions) && unique(bobVersions)).toBe(true);
  }, 30_000);

  it('a script held while Redis was away runs after the check when the data is still there, and is refused when it was lost', async () => {
    for (const appendonly of [true, false]) {
      await using redis = await startRedisServer({ appendonly });
      // A long command timeout, so the held call outlives the restart instead of timing out.
      await using app = await startTestApp(
        { REDIS_RECONNECT_MAX_MS: '100', REDIS_COMMAND_TIMEOUT_MS: '5000', MATCH_SWEEP_INTERVAL_MS: '600000' },
        { redisUrl: redis.url, prefix: 'rv', background: false },
      );
      const { store } = app.server.services;
      await using carl = await connectUser(app.url);
      await carl.api.match.enqueue.mutate({ language: 'nl' });
      await carl.api.match.cancel.mutate();
      await versionsOf(app, carl.userId);

      await redis.kill('SIGKILL');
      // The server has noticed (its connection is down), so the call below is held at the gate.
      await expect.poll(() => app.server.services.redis.status, { timeout: 5000, interval: 10 }).not.toBe('ready');
      const held = store.enqueue({ uid: carl.userId, pool: 'nl' }).then(
        (v) => ({ ok: true as const, version: v.version }),
        (e: unknown) => ({ ok: false as const, error: e as Error }),
      );
      await new Promise((r) => setTimeout(r, 300));
      await redis.restart();
      const outcome = await held;
      if (appendonly) {
        // Nothing was lost: the call ran once the epoch was found, on carl's own data.
        expect(outcome).toEqual({ ok: true, version: 3 });
      } else {
        // Lost: the call was decided on state that is gone, so it did not run at all.
        expect(outcome.ok).toBe(false);
        expect(!outcome.ok && (outcome.error.cause as Error).name).toBe('HeldAcrossDataLossError');
        expect(await versionsOf(app, carl.userId)).toEqual([1, 2]);
        // Read again (seeded from the audit trail) and retried: v3, not v1.
        expect((await store.getUser(carl.userId)).version).toBe(2);
        expect((await store.enqueue({ uid: carl.userId, pool: 'nl' })).version).toBe(3);
        expect(await versionsOf(app, carl.userId)).toEqual([1, 2, 3]);
      }
    }
  }, 60_000);
});
