import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { connectUser, type TestUser } from '../support/client';
import { startRedisServer } from '../support/redis-server';
import { FROM_START, closeAll } from './support';

const ENV = { REDIS_COMMAND_TIMEOUT_MS: '300', REDIS_RECONNECT_MAX_MS: '100' };

async function matchedPair(app: TestApp) {
  const a = await connectUser(app.url, { displayName: 'Ann', lastEventId: FROM_START });
  const b = await connectUser(app.url, { displayName: 'Bob', lastEventId: FROM_START });
  await a.api.match.enqueue.mutate({});
  await b.api.match.enqueue.mutate({});
  const m = await a.next('matched');
  await b.next('matched');
  return { a, b, matchId: m.matchId };
}

/** Chat texts `u` received, in order. */
function chats(u: TestUser): string[] {
  return u.events.flatMap((e) => (e.event.type === 'chat' ? [e.event.text] : []));
}

function expectNoRepeats(u: TestUser) {
  expect(new Set(u.events.map((e) => e.id)).size).toBe(u.events.length);
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('match.events delivery', () => {
  it('events written while the subscriber connection to Redis is reconnecting arrive, once and in order', async () => {
    await using redis = await startRedisServer();
    await using app = await startTestApp(ENV, { redisUrl: redis.url, prefix: 'rv' });
    const { a, b, matchId } = await matchedPair(app);
    await using _a = a;
    await using _b = b;
    const admin = new Redis(redis.url);
    try {
      // Drops the process's pub/sub connection: notifications published until it has
      // resubscribed are lost; the hub re-reads every stream once it is back.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      for (const text of ['one', 'two', 'three']) await b.api.chat.send.mutate({ matchId, text, clientMessageId: `msg-${text}-0001` });
      await a.next('chat', (e) => e.text === 'three');
      expect(chats(a)).toEqual(['one', 'two', 'three']);
      expectNoRepeats(a);
    } finally {
      admin.disconnect();
    }
  });

  it('a subscription stays open while Redis does not answer and carries on from where it was', async () => {
    await using redis = await startRedisServer();
    await using app = await startTestApp(ENV, { redisUrl: redis.url, prefix: 'rv' });
    const { a, b, matchId } = await matchedPair(app);
    await using _a = a;
    await using _b = b;
    await b.api.chat.send.mutate({ matchId, text: 'before', clientMessageId: 'msg-before-0001' });
    await a.next('chat', (e) => e.text === 'before');
    await redis.kill('SIGSTOP');
    // Longer than several command timeouts: reads in the meantime fail and are retried.
    await new Promise((r) => setTimeout(r, 2500));
    await redis.kill('SIGCONT');
    await eventually(async () =>
      b.api.chat.send
        .mutate({ matchId, text: 'after', clientMessageId: 'msg-after-0001' })
        .then(() => true)
        .catch(() => false),
    );
    await a.next('chat', (e) => e.text === 'after');
    expect(chats(a)).toEqual(['before', 'after']);
    expectNoRepeats(a);
  });

  it('a subscription that ends releases its user: the process stops listening for them', async () => {
    await using app = await startTestApp();
    const hub = app.server.services.hub;
    const users = await Promise.all([1, 2, 3].map(() => connectUser(app.url, { lastEventId: FROM_START })));
    expect(hub.watching).toBe(3);
    // The same user twice (two tabs): one channel, released only when both have gone.
    const again = await connectUser(app.url, { token: users[0]!.token, userId: users[0]!.userId });
    expect(hub.watching).toBe(3);
    await users[0]!.close();
    expect(hub.watching).toBe(3);
    await closeAll([again, ...users.slice(1)]);
    await eventually(() => hub.watching === 0);
  });
});
