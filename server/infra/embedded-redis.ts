/**
 * REDIS_URL unset: use redis://127.0.0.1:6379 when it answers, else spawn `redis-server` from PATH
 * with its data under DATA_DIR/redis (append-only, so a restart keeps state). The child is
 * stopped with the server, also when the server is killed outright (SIGKILL, OOM): a watchdog
 * shell holds a pipe from this process and stops redis-server when the pipe closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { pingRedis } from './redis';

export class StartupError extends Error {
  readonly code = 'STARTUP_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface ResolvedRedis {
  url: string;
  stop(): Promise<void>;
}

// Overridable only so tests can simulate a machine with no local Redis.
const LOCAL = process.env.RV_LOCAL_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function resolveRedis(url: string | undefined, dataDir: string, redisBinary = 'redis-server'): Promise<ResolvedRedis> {
  if (url) return { url, stop: async () => {} };
  if (await pingRedis(LOCAL)) return { url: LOCAL, stop: async () => {} };
  const dir = resolve(join(dataDir, 'redis'));
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = await spawnRedis(redisBinary, port, dir);
  } catch {
    throw new StartupError(
      'No Redis found: nothing answers at redis://127.0.0.1:6379 and `redis-server` is not on PATH. Install it (apt-get install redis-server) or set REDIS_URL.',
    );
  }
  const watchdog = watch(child);
  const childUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await pingRedis(childUrl, 200)) {
      return {
        url: childUrl,
        stop: () =>
          new Promise<void>((done) => {
            watchdog?.kill();
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  watchdog?.kill();
  child.kill('SIGKILL');
  throw new StartupError(`redis-server started but did not answer on port ${port}; see ${dir}.`);
}

function spawnRedis(bin: string, port: number, dir: string): Promise<ChildProcess> {
  return new Promise((ok, fail) => {
    const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore' });
    child.once('error', fail);
    child.once('spawn', () => ok(child));
    process.once('exit', () => child.kill('SIGTERM'));
  });
}

/**
 * A shell that waits for end-of-file on a pipe from this process, then stops `child`. The pipe's
 * other end closes only when this process is gone, however it ended, so the spawned
 * redis-server never outlives the server. Neither the pipe nor the shell keeps Node running.
 */
function watch(child: ChildProcess): ChildProcess | null {
  if (!child.pid) return null;
  const dog = spawn('sh', ['-c', `read _ ; kill -TERM ${child.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
  dog.on('error', () => undefined); // no sh: the normal stop still runs
  dog.unref();
  (dog.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
  return dog;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}
