import { describe, expect, it, vi } from 'vitest';
import { StateStore } from '../../server/state/store';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { POOL, TEST_LIMITS, connectLikeProduction, openStore, type StoreFixture } from './fixtures/store';

/**
 * A reply lost with its connection: the script ran in Redis, the reply is held in the proxy
 * (latency), the connection is reset, and ioredis reconnects and resends the command
 * (autoResendUnfulfilledCommands, maxRetriesPerRequest 1, as in production). The store under test
 * talks through the proxy; the checks read Redis directly.
 */
async function loseReplyAndResend<T>(fx: StoreFixture, proxy: FaultProxy, call: () => Promise<T>, applied: () => Promise<boolean>): Promise<T> {
  proxy.setMode('latency', 800);
  let settled = false;
  const result = call().finally(() => (settled = true));
  await vi.waitFor(async () => expect(await applied()).toBe(true), { timeout: 5000, interval: 5 });
  expect(settled).toBe(false); // the first reply is still in flight, and is about to be lost
  const accepted = proxy.stats.accepted;
  proxy.setMode('pass');
  proxy.resetAll();
  const r = await result;
  expect(proxy.stats.accepted).toBeGreaterThan(accepted); // it reconnected to get that answer
  return r;
}

async function setup() {
  const fx = await openStore();
  const port = Number(new URL(fx.url).port || 6379);
  const proxy = await startFaultProxy({ targetHost: new URL(fx.url).hostname, targetPort: port });
  const conn = await connectLikeProduction(`redis://127.0.0.1:${proxy.port}`, { REDIS_COMMAND_TIMEOUT_MS: '5000' });
  const store = new StateStore(conn, fx.prefix, TEST_LIMITS, fx.clock);
  // Load the scripts into Redis first, so the resend is a plain EVALSHA.
  await store.force({ uid: 'warm-up', pool: POOL, to: 'IDLE', actor: 'test', reason: 'warm up' });
  await store.enqueue({ uid: 'warm-up', pool: POOL, interests: ['nobody'] });
  await store.transition({ uid: 'warm-up', pool: POOL, to: 'IDLE' });
  await store.leave({ uid: 'warm-up', pool: POOL, reason: 'skip' }).catch(() => undefined);
  return {
    fx,
    proxy,
    store,
    async [Symbol.asyncDispose]() {
      conn.disconnect();
      await proxy.close();
      await fx[Symbol.asyncDispose]();
    },
  };
}

const version = async (fx: StoreFixture, uid: string) => Number((await fx.view(uid)).hash.version ?? 0);
const recordsOf = async (fx: StoreFixture, uid: string) => (await fx.outbox()).filter((r) => r.kind === 'transition' && r.userId === uid);

describe('a command resent after a dropped connection applies once', () => {
  it('a transition whose reply was lost advances the version by exactly one, with one audit record', async () => {
    await using t = await setup();
    const { fx } = t;
    await fx.store.force({ uid: 'u', pool: POOL, to: 'IDLE', actor: 'test', reason: 'setup' });
    const v0 = await version(fx, 'u');
    const records0 = (await recordsOf(fx, 'u')).length;
    const events0 = (await fx.view('u')).events.length;

    const r = await loseReplyAndResend(
      fx,
      t.proxy,
      () => t.store.transition({ uid: 'u', pool: POOL, to: 'WAITING' }),
      async () => (await version(fx, 'u')) > v0,
    );

    expect(r).toEqual({ from: 'IDLE', state: 'WAITING', version: v0 + 1 });
    expect(await version(fx, 'u')).toBe(v0 + 1);
    expect(await recordsOf(fx, 'u')).toHaveLength(records0 + 1);
    expect((await fx.view('u')).events).toHaveLength(events0 + 1);
  });

  it('an enqueue that made a match is not matched twice when resent', async () => {
    await using t = await setup();
    const { fx } = t;
    await fx.store.enqueue({ uid: 'a', pool: POOL });

    const r = await loseReplyAndResend(
      fx,
      t.proxy,
      () => t.store.enqueue({ uid: 'b', pool: POOL }),
      async () => (await version(fx, 'a')) > 1,
    );

    expect(r.match).toMatchObject({ a: 'b', b: 'a' });
    expect(await version(fx, 'a')).toBe(2);
    expect(await version(fx, 'b')).toBe(2);
    expect((await fx.outbox()).filter((x) => x.kind === 'match_created')).toHaveLength(1);
  });

  it('a skip whose reply was lost ends the match once', async () => {
    await using t = await setup();
    const { fx } = t;
    await fx.store.enqueue({ uid: 'a', pool: POOL });
    const { match } = await fx.store.enqueue({ uid: 'b', pool: POOL });
    const mid = match!.matchId;

    const r = await loseReplyAndResend(
      fx,
      t.proxy,
      () => t.store.leave({ uid: 'a', pool: POOL, reason: 'skip', matchId: mid }),
      async () => (await fx.view('a')).hash.state === 'WAITING',
    );

    expect(r).toMatchObject({ already: false, partnerId: 'b', state: 'WAITING' });
    expect((await fx.outbox()).filter((x) => x.kind === 'match_ended')).toHaveLength(1);
    expect(await version(fx, 'a')).toBe(4);
    expect(await version(fx, 'b')).toBe(4);
  });

  it('an admin force whose reply was lost applies once', async () => {
    await using t = await setup();
    const { fx } = t;
    await fx.store.force({ uid: 'u', pool: POOL, to: 'WAITING', actor: 'test', reason: 'setup' });
    const v0 = await version(fx, 'u');

    await loseReplyAndResend(
      fx,
      t.proxy,
      () => t.store.force({ uid: 'u', pool: POOL, to: 'IN_CALL', actor: 'admin:alice', reason: 'ticket' }),
      async () => (await version(fx, 'u')) > v0,
    );

    expect(await version(fx, 'u')).toBe(v0 + 1);
    expect(await recordsOf(fx, 'u')).toHaveLength(v0 + 1);
  });
});
