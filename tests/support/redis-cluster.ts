/**
 * A private, throw-away Redis Cluster for tests: `masters` masters with `replicasPerMaster`
 * replicas each (default 3 + 3), every node a `startRedisServer` on free loopback ports with its
 * own cluster bus port, joined by `redis-cli --cluster create`. Never the shared Redis.
 *
 *   await using cluster = await startRedisCluster();
 *   env.REDIS_CLUSTER_NODES = cluster.nodesSetting;     // "127.0.0.1:p1,127.0.0.1:p2,..."
 *   const master = await cluster.masterOf('{p:global}');  // the node serving that hash tag
 *   await master.kill('SIGKILL');                         // a replica is promoted within ~node timeout
 *
 * Nodes are started with AOF off and `cluster-node-timeout` short (NODE_TIMEOUT_MS), so a failover
 * in a test takes about a second. `cluster-require-full-coverage no`: a shard that is down does
 * not stop the others from answering (what an operator runs in production too).
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './free-port';
import { startRedisServer, type RedisServer } from './redis-server';

const run = promisify(execFile);
const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';
/** How long a node may be silent before it is failed over; short, so a failover test takes ~1 s. */
export const NODE_TIMEOUT_MS = 1_000;
const READY_TIMEOUT_MS = 30_000;

export interface StartRedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
}

export interface RedisCluster extends AsyncDisposable {
  readonly nodes: readonly RedisServer[];
  /** `host:port` of every node, comma-separated: the REDIS_CLUSTER_NODES setting. */
  readonly nodesSetting: string;
  /** The node now serving `key`'s slot as a master (asked of the cluster, so it follows failovers). */
  masterOf(key: string): Promise<RedisServer>;
  /** Resolves once every slot is served by a reachable master and every node agrees the cluster is ok. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /**
   * Moves `key`'s slot to another master the way `redis-cli --cluster reshard` does (IMPORTING /
   * MIGRATING, MIGRATE of its keys, then SETSLOT NODE everywhere), while clients go on: they meet
   * ASK and then MOVED. `batch`: keys per MIGRATE (default: the whole slot in one, which is what
   * Rendezvous needs, see the README's "Redis Cluster"); `marked` runs once the slot is marked
   * migrating, before any key moves; `between` runs after each MIGRATE.
   */
  migrateSlotOf(
    key: string,
    opts?: { batch?: number; marked?: () => Promise<void>; between?: () => Promise<void> },
  ): Promise<{ from: number; to: number; keys: number }>;
}

export async function startRedisCluster(opts: StartRedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  const nodes: RedisServer[] = [];
  const dispose = async () => {
    await Promise.all(nodes.map((n) => n[Symbol.asyncDispose]().catch(() => undefined)));
  };
  try {
    const started = await Promise.all(
      Array.from({ length: masters * (1 + replicas) }, async () =>
        startRedisServer({
          extraArgs: async (port) => [
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(await busPort(port)),
            '--cluster-config-file',
            'nodes.conf',
            '--cluster-node-timeout',
            String(NODE_TIMEOUT_MS),
            '--cluster-require-full-coverage',
            'no',
            // A replica whose master died is promoted however long it was cut off (tests kill masters).
            '--cluster-replica-validity-factor',
            '0',
          ],
        }),
      ),
    );
    nodes.push(...started);
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await run(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: READY_TIMEOUT_MS });
    const cluster: RedisCluster = {
      nodes,
      nodesSetting: addresses.join(','),
      masterOf: async (key) => {
        const port = await askAny(nodes, async (r) => {
          const slot = (await r.call('CLUSTER', 'KEYSLOT', key)) as number;
          const shards = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
          const shard = shards.find(([from, to]) => slot >= from && slot <= to);
          if (!shard) throw new Error(`no master serves slot ${slot}`);
          return shard[2][1];
        });
        const node = nodes.find((n) => n.port === port);
        if (!node) throw new Error(`slot of ${key} is served by unknown port ${port}`);
        return node;
      },
      waitHealthy: (timeoutMs = READY_TIMEOUT_MS) => waitHealthy(nodes, masters * (1 + replicas), timeoutMs),
      migrateSlotOf: async (key, { batch = 1_000_000, marked, between } = {}) => {
        const source = await cluster.masterOf(key);
        const ids = await askAny(nodes, async (r) => parseMasters(String(await r.call('CLUSTER', 'NODES'))));
        const target = ids.find((m) => m.port !== source.port)!;
        const sourceId = ids.find((m) => m.port === source.port)!.id;
        const on = <T>(port: number, fn: (r: Redis) => Promise<T>) =>
          askAny(
            nodes.filter((n) => n.port === port),
            fn,
          );
        const slot = await on(source.port, async (r) => (await r.call('CLUSTER', 'KEYSLOT', key)) as number);
        await on(target.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId));
        await on(source.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', target.id));
        await marked?.();
        let moved = 0;
        for (;;) {
          const keys = await on(source.port, async (r) => (await r.call('CLUSTER', 'GETKEYSINSLOT', slot, batch)) as string[]);
          if (keys.length === 0) break;
          await on(source.port, (r) => r.call('MIGRATE', '127.0.0.1', target.port, '', 0, 5000, 'REPLACE', 'KEYS', ...keys));
          moved += keys.length;
          await between?.();
        }
        for (const m of ids) await on(m.port, (r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', target.id)).catch(() => undefined);
        return { from: source.port, to: target.port, keys: moved };
      },
      [Symbol.asyncDispose]: dispose,
    };
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** A free port other than the node's own (the kernel may hand the same free port out twice in a row). */
async function busPort(port: number): Promise<number> {
  for (;;) {
    const p = await freePort();
    if (p !== port) return p;
  }
}

/** The masters in a CLUSTER NODES reply: id and port. */
function parseMasters(nodesReply: string): Array<{ id: string; port: number }> {
  return nodesReply
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2]?.includes('master') && !f[2].includes('fail'))
    .map((f) => ({ id: f[0]!, port: Number(/:(\d+)@/.exec(f[1]!)?.[1]) }));
}

/** Asks the first running node that answers. */
async function askAny<T>(nodes: readonly RedisServer[], fn: (r: Redis) => Promise<T>): Promise<T> {
  let last: unknown = new Error('no node is running');
  for (const n of nodes.filter((x) => x.running)) {
    const r = new Redis(n.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return await fn(r);
    } catch (e) {
      last = e;
    } finally {
      r.disconnect();
    }
  }
  throw last;
}

async function waitHealthy(nodes: readonly RedisServer[], total: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let why = '';
  while (Date.now() < deadline) {
    const states = await Promise.all(
      nodes
        .filter((n) => n.running)
        .map((n) =>
          askAny([n], async (r) => {
            const info = String(await r.call('CLUSTER', 'INFO'));
            const known = Number(/cluster_known_nodes:(\d+)/.exec(info)?.[1] ?? 0);
            const ok = /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info);
            // A replica answers reads only once its first sync is done.
            const role = String(await r.call('ROLE'));
            const synced = !role.startsWith('slave') || /connected/.test(role);
            return ok && known >= total - nodes.filter((x) => !x.running).length && synced ? '' : `${n.port}: ${info.split('\r\n')[0]}`;
          }).catch((e: unknown) => `${n.port}: ${String(e)}`),
        ),
    );
    why = states.filter(Boolean).join('; ');
    if (!why) return;
    await sleep(50);
  }
  throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms: ${why}`);
}
