import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../server/config';
import { startTestApp } from '../support/app';
import { freePort } from '../support/free-port';
import { startRedisServer } from '../support/redis-server';

// `node --import tsx` (not tsx's CLI, which runs the server in a child): the pid we signal is the server's.

function runMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, stderr: () => stderr };
}

/** `main.ts` with no Redis answering (so it spawns its own) and PGlite, once /readyz answers 200. */
async function startWithSpawnedRedis(dirPrefix: string) {
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const port = await freePort();
  const run = runMain({ DATA_DIR: dir, PORT: String(port), RV_LOCAL_REDIS_URL: `redis://127.0.0.1:${await freePort()}`, DATABASE_URL: '' });
  try {
    await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200), { timeout: 30_000, interval: 200 });
  } catch (e) {
    run.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { dir, run };
}

describe('start-up', () => {
  it('a bad environment value stops start-up with one line naming the variable', async () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    const run = runMain({ PORT: 'eighty' });
    expect(await run.exited).toBe(1);
    expect(run.stderr().trim().split('\n')).toHaveLength(1);
    expect(run.stderr()).toMatch(/^rendezvous: Invalid configuration: PORT/);
  });

  it('with no Redis answering and no redis-server on PATH, it exits with one line saying what to install', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-start-'));
    try {
      // REDIS_URL unset: the probe of the usual local Redis is pointed at a dead port, and
      // PATH hides redis-server, as on a machine with neither.
      const run = runMain({ DATA_DIR: dir, PATH: '/nonexistent', RV_LOCAL_REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toMatch(/^rendezvous: No Redis found: .*redis-server.*REDIS_URL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with no Redis answering, it spawns redis-server under DATA_DIR and stops it on shutdown', async () => {
    const { dir, run } = await startWithSpawnedRedis('rv-spawn-');
    try {
      expect(existsSync(join(dir, 'redis', 'appendonlydir'))).toBe(true);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a server killed outright (SIGKILL) leaves no redis-server of its own behind', async () => {
    const { dir, run } = await startWithSpawnedRedis('rv-spawn-kill-');
    // redis-server rewrites its command line, so it is found by the append-only file it holds open.
    const redisServers = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readdirSync(`/proc/${p}/fd`).some((fd) => readlinkSync(`/proc/${p}/fd/${fd}`).startsWith(join(dir, 'redis')));
          } catch {
            return false; // gone, or not ours to look into
          }
        });
    try {
      expect(redisServers()).toHaveLength(1);

      run.child.kill('SIGKILL');
      await run.exited;

      await vi.waitFor(() => expect(redisServers()).toEqual([]), { timeout: 10_000, interval: 100 });
    } finally {
      run.child.kill('SIGKILL');
      for (const pid of redisServers()) process.kill(Number(pid), 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('on the embedded defaults (no DATABASE_URL) it starts on PGlite and /readyz answers 200', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-embedded-'));
    const port = await freePort();
    const run = runMain({ DATA_DIR: dir, PORT: String(port), REDIS_PREFIX: `tembed${port}`, DATABASE_URL: '' });
    try {
      await vi.waitFor(
        async () => {
          const r = await fetch(`http://127.0.0.1:${port}/readyz`);
          expect(r.status).toBe(200);
          expect(await r.json()).toMatchObject({ ready: true });
        },
        { timeout: 30_000, interval: 200 },
      );
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('process_cpu_user_seconds_total');
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('a start-up that fails part-way', () => {
  it('closes every connection it had opened (here: the port is taken when it comes to listen)', async () => {
    await using redis = await startRedisServer();
    const inspector = new Redis(redis.url);
    const blocker = createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const ours = async () =>
        String(await inspector.call('CLIENT', 'LIST'))
          .split('\n')
          .filter((l) => l.includes('name=rendezvous:')).length;
      await expect(startTestApp({ PORT: String(port) }, { redisUrl: redis.url, prefix: 'failed-start' })).rejects.toThrow(/already in use/);
      await vi.waitFor(async () => expect(await ours()).toBe(0), { timeout: 3000 });
    } finally {
      inspector.disconnect();
      blocker.close();
    }
  });
});
