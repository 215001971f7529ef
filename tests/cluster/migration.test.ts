/**
 * A pool's slot moved to another master while people keep using it (the way `redis-cli --cluster
 * reshard` moves slots, with all of the slot's keys in one MIGRATE: a state script declares only
 * one key and reaches the pool's others by its hash tag, so a pool moved a few keys at a time
 * would have scripts write keys already moved, on the old master, and a later MIGRATE ... REPLACE
 * overwrite the moved ones: audit records were lost that way when this test moved 20 keys at a
 * time). Calls meet ASK and then MOVED, and are retried. Afterwards every user is consistent and
 * the audit trail holds one record per applied transition: nothing lost, nothing applied twice.
 */
import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from '../../server/audit/records';
import { loadConfig } from '../../server/config';
import { connectRedis } from '../../server/infra/redis';
import { systemClock } from '../../server/shared/clock';
import { checkConsistency } from '../../server/state/consistency';
import { isDomainError } from '../../server/state/errors';
import { State } from '../../server/state/states';
import { StateStore } from '../../server/state/store';
import { TEST_LIMITS } from '../state/fixtures/store';
import { startRedisCluster } from '../support/redis-cluster';

const POOL = 'global';
const USERS = 40;

describe('a Redis Cluster slot migrated under load', () => {
  it('moves the pool to another master while users churn: every user consistent, one audit record per transition', { timeout: 60_000 }, async () => {
    await using cluster = await startRedisCluster();
    const redis = await connectRedis(
      '',
      loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: cluster.nodesSetting, REDIS_COMMAND_TIMEOUT_MS: '5000' }),
      'migration-test',
    );
    const store = new StateStore(redis, 'rv', TEST_LIMITS, systemClock);
    let stop = false;
    let applied = 0;
    const failures: string[] = [];
    const churn = async (uid: string) => {
      while (!stop) {
        try {
          const u = await store.getUser(uid, POOL);
          if (u.state === 'IDLE') await store.enqueue({ uid, pool: POOL });
          else if (u.state === 'WAITING') await store.cancel({ uid, pool: POOL });
          else await store.leave({ uid, pool: POOL, reason: 'skip', matchId: u.matchId ?? undefined });
          applied++;
        } catch (e) {
          // Racing the partner is part of churn; anything else (a lost command, a cluster error) is a failure.
          if (!isDomainError(e)) failures.push(String(e));
        }
      }
    };
    try {
      const actors = Array.from({ length: USERS }, (_, i) => churn(`u${i}`));
      await new Promise((r) => setTimeout(r, 500));
      const before = applied;
      const moved = await cluster.migrateSlotOf(store.keys.poolPrefix(POOL));
      await new Promise((r) => setTimeout(r, 500));
      const after = applied - before;
      stop = true;
      await Promise.all(actors);

      expect(moved.keys).toBeGreaterThan(USERS); // hashes, histories, sets: the pool really moved
      expect((await cluster.masterOf(store.keys.poolPrefix(POOL))).port).toBe(moved.to);
      expect(after).toBeGreaterThan(0); // calls went on, on the new master
      expect(failures).toEqual([]);

      expect((await checkConsistency(redis, store, POOL, false)).inconsistent).toEqual([]);
      const records = (await redis.xrange(store.keys.outbox(POOL), '-', '+')).map(([, f]) => JSON.parse(f[1]!) as OutboxRecord);
      const versions = new Map<string, number[]>();
      for (const t of records) if (t.kind === 'transition') versions.set(t.userId, [...(versions.get(t.userId) ?? []), t.version]);
      for (let i = 0; i < USERS; i++) {
        const { version } = await store.getUser(`u${i}`, POOL);
        expect(versions.get(`u${i}`) ?? [], `u${i}`).toEqual(Array.from({ length: version }, (_, v) => v + 1));
      }
    } finally {
      stop = true;
      redis.disconnect();
    }
  });

  it(
    "a newcomer's first call, made while the slot is marked but before its keys move, waits for the move and lands with the pool",
    { timeout: 60_000 },
    async () => {
      await using cluster = await startRedisCluster();
      const redis = await connectRedis('', loadConfig({ NODE_ENV: 'test', REDIS_CLUSTER_NODES: cluster.nodesSetting }), 'migration-test');
      const store = new StateStore(redis, 'rv', TEST_LIMITS, systemClock);
      try {
        await store.enqueue({ uid: 'early', pool: POOL });
        let call: Promise<unknown> = Promise.resolve();
        await cluster.migrateSlotOf(store.keys.poolPrefix(POOL), {
          // The newcomer's hash exists nowhere yet, so Redis alone would send the call to the new
          // master (ASK), which holds none of the pool: the declared epoch makes it TRYAGAIN instead.
          marked: async () => {
            call = store.enqueue({ uid: 'newcomer', pool: POOL });
            await new Promise((r) => setTimeout(r, 300));
          },
        });
        await call;
        // Matched with the one who waited before the move: the whole pool was there when it ran.
        const newcomer = await store.getUser('newcomer', POOL);
        expect(newcomer).toMatchObject({ state: State.CONNECTING, matchedWith: 'early' });
        const records = (await redis.xrange(store.keys.outbox(POOL), '-', '+')).map(([, f]) => JSON.parse(f[1]!) as OutboxRecord);
        const versions = records.flatMap((r) => (r.kind === 'transition' && r.userId === 'newcomer' ? [r.version] : []));
        expect(versions).toEqual(Array.from({ length: newcomer.version }, (_, v) => v + 1));
      } finally {
        redis.disconnect();
      }
    },
  );
});
