import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../server/state/keys';
import { connectUser, type TestUser } from '../support/client';
import { createTestDatabase, createTestRedis } from '../support/databases';
import { spawnServer } from './fixtures/spawn';
import { FROM_START } from './support';

const SECRET = 'resume-test-session-secret-0123456789';

async function say(from: TestUser, matchId: string, texts: string[]): Promise<void> {
  for (const text of texts) await from.api.chat.send.mutate({ matchId, text, clientMessageId: randomUUID() });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

describe('matchmaking: resume after a server process dies', () => {
  it('a client whose server is killed with SIGKILL resumes on the other process and receives every event exactly once', { timeout: 60_000 }, async () => {
    await using db = await createTestDatabase();
    await using kv = await createTestRedis();
    const env = { REDIS_URL: kv.url, ...kv.env, REDIS_PREFIX: kv.prefix, DATABASE_URL: db.url, SESSION_SECRET: SECRET, MATCH_SWEEP_INTERVAL_MS: '100' };
    // Declared after the database and keys, so both processes are gone before those are dropped.
    await using doomed = await spawnServer(env);
    await using survivor = await spawnServer(env);
    const redis = await kv.connect();
    const ann = await connectUser(doomed.url, { displayName: 'Ann', lastEventId: FROM_START });
    await using bob = await connectUser(survivor.url, { displayName: 'Bob', lastEventId: FROM_START });
    try {
      await ann.api.match.enqueue.mutate({});
      await bob.api.match.enqueue.mutate({});
      const { matchId } = await ann.next('matched');
      await say(bob, matchId, range(1, 5));
      await ann.next('chat', (e) => e.text === 'm5');

      await doomed.kill();
      // Bob goes on talking while Ann has no connection at all.
      await say(bob, matchId, range(6, 10));
      const lastEventId = ann.events.at(-1)!.id;
      await ann.close().catch(() => {});

      await using again = await connectUser(survivor.url, { token: ann.token, userId: ann.userId, lastEventId });
      await say(bob, matchId, range(11, 15));
      await bob.api.match.end.mutate({ matchId });
      await again.next('requeued');

      const received = [...ann.events, ...again.events];
      const stored = await redis.xrange(new Keys(kv.prefix).events('global', ann.userId), '-', '+');
      expect(received.map((e) => e.id)).toEqual(stored.map(([id]) => `global|${id}`));
      const chats = received.flatMap((e) => (e.event.type === 'chat' ? [e.event.text] : []));
      expect(chats).toEqual(range(1, 15));
      expect(again.events.some((e) => e.event.type === 'chat' && e.event.text === 'm6')).toBe(true);
    } finally {
      redis.disconnect();
    }
  });
});
