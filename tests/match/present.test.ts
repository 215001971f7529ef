/**
 * The three ways matching used to waste people's time, each against real server processes on a
 * private Redis: a partner who had already left, a pair that a failed room kept apart for good,
 * and a pair that a dying process made but never announced.
 */
import { describe, expect, it } from 'vitest';
import type { MatchEvent } from '../../server/events/types';
import { Keys } from '../../server/state/keys';
import { startLiveKitDouble, type LiveKitDouble } from '../livekit-double';
import { startTestApp } from '../support/app';
import { connectUser, type TestUser } from '../support/client';
import { createTestDatabase, createTestRedis } from '../support/databases';
import { spawnServer } from './fixtures/spawn';
import { FROM_START, matchedWith } from './support';

const SECRET = 'present-test-session-secret-0123456789';

function livekitEnv(lk: LiveKitDouble): Record<string, string> {
  return { LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret };
}

/** Polls `read` until it returns true (for state another process writes). */
async function until(read: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await read())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What every server process of a test gets: the test's own Redis keys, database and secret. */
const processEnv = (db: { url: string }, kv: { url: string; prefix: string; env: Record<string, string> }, extra: Record<string, string>) => ({
  REDIS_URL: kv.url,
  ...kv.env,
  REDIS_PREFIX: kv.prefix,
  DATABASE_URL: db.url,
  SESSION_SECRET: SECRET,
  ...extra,
});

const types = (u: TestUser) => u.events.map((e) => e.event.type);
const states = (u: TestUser) => u.events.flatMap<Extract<MatchEvent, { type: 'state' }>>((e) => (e.event.type === 'state' ? [e.event] : []));

describe('matching offers only people who are there', () => {
  it(
    'a waiting user whose socket closed is not offered to a newcomer, and is matched the moment they reconnect to any process',
    { timeout: 60_000 },
    async () => {
      await using db = await createTestDatabase();
      await using kv = await createTestRedis();
      // The sweeps are far apart: whatever pairs the two below is the return itself.
      const env = processEnv(db, kv, { MATCH_SWEEP_INTERVAL_MS: '60000', PRESENCE_SWEEP_INTERVAL_MS: '60000' });
      await using one = await spawnServer(env);
      await using two = await spawnServer(env);
      const redis = await kv.connect();
      const user = (uid: string) => new Keys(kv.prefix).user('global', uid);
      try {
        const ann = await connectUser(one.url, { displayName: 'Ann', lastEventId: FROM_START });
        await ann.api.match.enqueue.mutate({});
        await ann.next('queued'); // she resumes after it below
        await ann.close();
        await until(async () => (await redis.hget(user(ann.userId), 'droppedAt')) !== null);

        await using bob = await connectUser(two.url, { displayName: 'Bob', lastEventId: FROM_START });
        const r = await bob.api.match.enqueue.mutate({});

        expect(r.match).toBeNull();
        expect(await bob.next('queued')).toMatchObject({ position: 1 });
        expect(await redis.hget(user(ann.userId), 'state')).toBe('WAITING');

        await using back = await connectUser(two.url, { token: ann.token, userId: ann.userId, lastEventId: ann.events.at(-1)!.id });
        const m = await matchedWith(bob, back, 3000);
        expect(await matchedWith(back, bob, 3000)).toMatchObject({ matchId: m.matchId });
        expect(types(bob).filter((t) => t === 'matched')).toHaveLength(1);
      } finally {
        redis.disconnect();
      }
    },
  );

  it('a pair whose room could not be made is paired again at once: an attempt is not a meeting', { timeout: 60_000 }, async () => {
    await using lk = await startLiveKitDouble();
    await using app = await startTestApp({ ...livekitEnv(lk), MATCH_SWEEP_INTERVAL_MS: '200' });
    await using ann = await connectUser(app.url, { displayName: 'Ann', lastEventId: FROM_START });
    await using bob = await connectUser(app.url, { displayName: 'Bob', lastEventId: FROM_START });
    // A refusal (4xx) is not retried and does not mean LiveKit is down: the match is rolled back.
    lk.failNext('CreateRoom', 1, 400);

    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});

    const m = await matchedWith(ann, bob, 3000);
    expect(m).toMatchObject({ mode: 'livekit' });
    expect(await matchedWith(bob, ann, 3000)).toMatchObject({ matchId: m.matchId });
    expect(lk.calls('CreateRoom')).toBe(2);
    // Paired again within the same script: no notice about the call they never saw.
    expect(ann.events.map((e) => e.event.type)).not.toContain('notice');
  });

  it(
    'a pair made by a process that died before announcing it goes back to both places, unnoticed, and is announced by a live process',
    { timeout: 60_000 },
    async () => {
      await using lk = await startLiveKitDouble();
      await using db = await createTestDatabase();
      await using kv = await createTestRedis();
      const env = processEnv(db, kv, {
        ...livekitEnv(lk),
        // The doomed process waits up to 2 s for its room (the double holds the answer 30 s): it is
        // killed well within that, and the survivor undoes the pair at the 3 s deadline.
        CONNECTING_TIMEOUT_MS: '3000',
        LIVEKIT_CALL_TIMEOUT_MS: '2000',
        LIVEKIT_RETRY_ATTEMPTS: '0',
        MATCH_SWEEP_INTERVAL_MS: '100',
      });
      await using doomed = await spawnServer(env);
      await using survivor = await spawnServer(env);
      // Both listen on the survivor; their enqueues go through the doomed process, which makes the pair.
      await using ann = await connectUser(survivor.url, { displayName: 'Ann', lastEventId: FROM_START });
      await using bob = await connectUser(survivor.url, { displayName: 'Bob', lastEventId: FROM_START });
      const annThere = await connectUser(doomed.url, { token: ann.token, userId: ann.userId });
      const bobThere = await connectUser(doomed.url, { token: bob.token, userId: bob.userId });
      lk.delay('CreateRoom', 30_000, 1);

      await annThere.api.match.enqueue.mutate({});
      await bobThere.api.match.enqueue.mutate({});
      await ann.next('state', (e) => e.to === 'CONNECTING');
      await bob.next('state', (e) => e.to === 'CONNECTING');
      // The doomed process's room request has reached LiveKit (and is held there) when it dies.
      await until(() => Promise.resolve(lk.calls('CreateRoom') === 1));
      await doomed.kill();
      await Promise.all([annThere.close().catch(() => {}), bobThere.close().catch(() => {})]);

      const m = await matchedWith(ann, bob, 5000);
      expect(await matchedWith(bob, ann, 3000)).toMatchObject({ matchId: m.matchId });
      expect(lk.calls('CreateRoom')).toBe(2);
      for (const u of [ann, bob]) {
        expect(types(u)).not.toContain('notice');
        expect(states(u).map((s) => `${s.to}:${s.reason}`)).toEqual(['WAITING:enqueue', 'CONNECTING:matched', 'WAITING:unannounced', 'CONNECTING:matched']);
      }
    },
  );
});
