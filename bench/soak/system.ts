/**
 * What the soak runs against: a private redis-server and a private Postgres cluster (so pausing
 * or restarting them touches no one else), and server processes (bench/match/server.ts, the node
 * flags of `npm start` plus --expose-gc for the end check's full collections) in fixed slots: each
 * slot keeps its port and data directory, so a slot killed and restarted is reached at the same
 * address (clients reconnect there) and replays its own audit spool.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../tests/support/free-port';
import { startPostgresServer, type PostgresServer } from '../../tests/support/postgres-server';
import { startRedisServer, type RedisServer } from '../../tests/support/redis-server';
import { startChild, startFlags, type Child } from '../match/children';

type Listening = { type: 'listening'; url: string; pid: number };
const LISTEN_TIMEOUT_MS = 60_000;

export interface Slot {
  index: number;
  url: string;
  /** The running process, or null between a kill and its restart. */
  child: Child | null;
  pid: number;
}

export interface SoakSystem extends AsyncDisposable {
  redis: RedisServer;
  postgres: PostgresServer;
  prefix: string;
  secret: string;
  slots: Slot[];
  /** SIGKILL the slot's process and wait for it to be gone. */
  kill(slot: Slot): Promise<void>;
  /** Start the slot's process again (same port, same data directory). */
  restart(slot: Slot): Promise<void>;
}

export async function startSystem(o: { servers: number; env: Record<string, string> }): Promise<SoakSystem> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const release = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const redis = await startRedisServer();
    cleanups.push(() => redis[Symbol.asyncDispose]());
    const postgres = await startPostgresServer();
    cleanups.push(() => postgres[Symbol.asyncDispose]());
    const prefix = 'soak';
    const secret = randomBytes(24).toString('hex');
    const nodeArgs = [...startFlags(), '--expose-gc'];
    const slots: Slot[] = [];
    const envOf = async (index: number) => {
      const dataDir = mkdtempSync(join(tmpdir(), `rv-soak-${index}-`));
      cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
      const port = await freePort();
      return {
        ...o.env,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        DATA_DIR: dataDir,
        REDIS_URL: redis.url,
        REDIS_PREFIX: prefix,
        DATABASE_URL: postgres.url,
        SESSION_SECRET: secret,
      };
    };
    const envs: Array<Record<string, string>> = [];
    const launch = async (slot: Slot) => {
      const child = startChild('bench/match/server.ts', envs[slot.index]!, nodeArgs);
      const l = await child.next<Listening>('listening', LISTEN_TIMEOUT_MS);
      slot.child = child;
      slot.pid = l.pid;
    };
    cleanups.push(async () => {
      for (const s of slots) await s.child?.stop();
    });
    // One at a time: the first migrates the fresh database alone.
    for (let i = 0; i < o.servers; i++) {
      envs.push(await envOf(i));
      const slot: Slot = { index: i, url: `http://127.0.0.1:${envs[i]!.PORT}`, child: null, pid: -1 };
      await launch(slot);
      slots.push(slot);
    }
    return {
      redis,
      postgres,
      prefix,
      secret,
      slots,
      async kill(slot) {
        const child = slot.child;
        if (!child) return;
        slot.child = null;
        child.proc.kill('SIGKILL');
        await child.exited;
      },
      restart: launch,
      [Symbol.asyncDispose]: release,
    };
  } catch (e) {
    await release();
    throw e;
  }
}
