import { performance } from 'node:perf_hooks';
import { describe, expect, it, vi } from 'vitest';
import { StoreUnavailableError } from '../../server/state/errors';
import { startRedisServer } from '../support/redis-server';
import { POOL, openStore, type StoreFixture } from './fixtures/store';

const COMMAND_TIMEOUT_MS = 300;
const ENV = { REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS), REDIS_RECONNECT_MAX_MS: '100' };

async function timed<T>(p: Promise<T>): Promise<{ error: unknown; ms: number }> {
  const t0 = performance.now();
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - t0 };
}

/** Loads the scripts used below into the (fresh) private Redis. */
async function warmUp(fx: StoreFixture, uid: string) {
  await fx.store.force({ uid, pool: POOL, to: 'IDLE', actor: 'test', reason: 'setup' });
  await fx.store.transition({ uid, pool: POOL, to: 'WAITING' });
  await fx.store.transition({ uid, pool: POOL, to: 'IDLE' });
}

function expectUnavailable(r: { error: unknown; ms: number }) {
  expect(r.error).toBeInstanceOf(StoreUnavailableError);
  expect(r.error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', httpCode: 'SERVICE_UNAVAILABLE', details: { retryAfterMs: 2000 } });
  // Within the configured command timeout (plus slack for a shared machine), not ioredis's ~70 s.
  expect(r.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 700);
}

describe('when Redis stops answering', () => {
  it('a paused Redis makes a call fail within the command timeout with StoreUnavailableError; after resume it works, and a retry with the same op id applies once', async () => {
    await using server = await startRedisServer();
    await using fx = await openStore({ url: server.url, env: ENV });
    await warmUp(fx, 'u');
    const v0 = Number((await fx.view('u')).hash.version);

    await server.kill('SIGSTOP');
    let paused: { error: unknown; ms: number };
    try {
      paused = await timed(fx.store.transition({ uid: 'u', pool: POOL, to: 'WAITING', op: 'try-1' }));
    } finally {
      await server.kill('SIGCONT');
    }
    expectUnavailable(paused);
    expect(paused.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);

    // The timed-out command was already in the socket, so Redis runs it on resume; the caller's
    // retry with the same op id gets that answer instead of applying a second time.
    await expect(fx.store.transition({ uid: 'u', pool: POOL, to: 'WAITING', op: 'try-1' })).resolves.toEqual({
      from: 'IDLE',
      state: 'WAITING',
      version: v0 + 1,
    });
    expect((await fx.view('u')).hash.version).toBe(String(v0 + 1));
    expect((await fx.outbox()).filter((r) => r.kind === 'transition' && r.userId === 'u')).toHaveLength(v0 + 1);
    await expect(fx.store.transition({ uid: 'u', pool: POOL, to: 'IDLE' })).resolves.toMatchObject({ version: v0 + 2 });
  });

  it('a Redis that is down makes a call fail fast with StoreUnavailableError; once it is back, calls work again', async () => {
    await using server = await startRedisServer();
    await using fx = await openStore({ url: server.url, env: ENV });
    await warmUp(fx, 'u');

    await server.stop();
    expectUnavailable(await timed(fx.store.transition({ uid: 'u', pool: POOL, to: 'WAITING' })));
    expectUnavailable(await timed(fx.store.force({ uid: 'u', pool: POOL, to: 'WAITING', actor: 'test', reason: 'while down' })));

    await server.restart();
    // The private server keeps no data (no AOF): the user starts again from nothing.
    await vi.waitFor(
      () => expect(fx.store.force({ uid: 'u', pool: POOL, to: 'WAITING', actor: 'test', reason: 'back' })).resolves.toMatchObject({ state: 'WAITING' }),
      {
        timeout: 5000,
        interval: 50,
      },
    );
    await expect(fx.store.transition({ uid: 'u', pool: POOL, to: 'IDLE' })).resolves.toMatchObject({ state: 'IDLE' });
  });
});
