import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedisCluster } from '../support/redis-cluster';

describe('the local Redis Cluster of the tests', () => {
  it('has three masters with a replica each, serving every slot, and follows a failover', async () => {
    await using cluster = await startRedisCluster();
    const client = new Cluster(
      cluster.nodesSetting.split(',').map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })),
      {
        redisOptions: { maxRetriesPerRequest: 1 },
      },
    );
    client.on('error', () => undefined);
    try {
      expect(await client.call('CLUSTER', 'INFO')).toMatch(/cluster_size:3/);
      const master = await cluster.masterOf('{p:a}');
      // Written on the master's own connection, and WAIT until its replica has it too.
      const direct = new Redis(master.port, '127.0.0.1');
      await direct.set('{p:a}:x', '1');
      expect(await direct.call('WAIT', '1', '5000')).toBe(1);
      direct.disconnect();

      await master.kill('SIGKILL');
      await cluster.waitHealthy();
      const promoted = await cluster.masterOf('{p:a}');
      expect(promoted.port).not.toBe(master.port);
      await expect.poll(() => client.get('{p:a}:x').catch((e: Error) => e.message), { timeout: 10_000 }).toBe('1');
    } finally {
      client.disconnect();
    }
  });
});
