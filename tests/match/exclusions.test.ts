import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import type { TestUser } from '../support/client';
import { POOL, closeAll, connectMany, enqueue, matchedWith, queue, stateOf } from './support';

async function blockRows(app: TestApp): Promise<Array<{ blocker_id: string; blocked_id: string }>> {
  const db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
  try {
    return (await db.query<{ blocker_id: string; blocked_id: string }>('select blocker_id, blocked_id from blocks')).rows;
  } finally {
    await db.end();
  }
}

function blockSet(app: TestApp, u: TestUser, pool = POOL): Promise<string[]> {
  return app.server.services.redis.smembers(app.server.services.store.keys.blocks(pool, u.userId));
}

/** `first` waits, `second` arrives and meets them; then `second` ends and `first` leaves the queue. */
async function meetAndPart(first: TestUser, second: TestUser): Promise<void> {
  await enqueue(first);
  const m = (await enqueue(second)).match!;
  expect(m).toMatchObject({ a: second.userId, b: first.userId });
  await second.api.match.end.mutate({ matchId: m.matchId });
  await first.api.match.cancel.mutate();
}

describe('matchmaking: recent partners and blocks are never paired', () => {
  it('two users who just met are not paired again after a skip, while a newcomer is paired at once', async () => {
    await using app = await startTestApp({}, { background: false });
    const [a, b, c] = await connectMany(app.url, 3, ['A', 'B', 'C']);
    try {
      await enqueue(a!);
      const m = await enqueue(b!);
      const r = await b!.api.match.skip.mutate({ matchId: m.match!.matchId });
      expect(r).toEqual({ state: 'WAITING', already: false });
      await app.server.services.match.tick();
      expect(await queue(app)).toEqual([a!.userId, b!.userId]);
      expect((await enqueue(c!)).match).toMatchObject({ a: c!.userId, b: a!.userId });
    } finally {
      await closeAll([a!, b!, c!]);
    }
  });

  it('a recent partner becomes eligible again once RECENT_PARTNERS_TTL_MS has passed', async () => {
    await using app = await startTestApp({ RECENT_PARTNERS_TTL_MS: '400' });
    const [a, b] = await connectMany(app.url, 2, ['A', 'B']);
    try {
      await enqueue(a!);
      const first = (await enqueue(b!)).match!;
      const t0 = Date.now();
      await b!.api.match.skip.mutate({ matchId: first.matchId });
      const again = await a!.next('matched', (e) => e.matchId !== first.matchId);
      expect(again.partnerId).toBe(b!.userId);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    } finally {
      await closeAll([a!, b!]);
    }
  });

  it('only the last RECENT_PARTNERS_MAX partners are excluded', async () => {
    await using app = await startTestApp({ RECENT_PARTNERS_MAX: '1' }, { background: false });
    const [a, b, c, d] = await connectMany(app.url, 4, ['A', 'B', 'C', 'D']);
    try {
      await meetAndPart(a!, b!);
      await meetAndPart(a!, c!);
      await meetAndPart(b!, d!);
      // A's only remembered partner is now C, and B's is D: they may meet again.
      await enqueue(a!);
      expect((await enqueue(b!)).match).toMatchObject({ a: b!.userId, b: a!.userId });
    } finally {
      await closeAll([a!, b!, c!, d!]);
    }
  });

  it("a user is never paired with one of their own last partners, even when they are not among the newcomer's", async () => {
    await using app = await startTestApp({ RECENT_PARTNERS_MAX: '1' }, { background: false });
    const [a, b, c] = await connectMany(app.url, 3, ['A', 'B', 'C']);
    try {
      await meetAndPart(a!, b!);
      await meetAndPart(a!, c!);
      // B's last partner is A; A's is C.
      await enqueue(b!);
      expect((await enqueue(a!)).match).toBeNull();
    } finally {
      await closeAll([a!, b!, c!]);
    }
  });

  it('a block made with match.block is stored in Postgres and Redis and keeps the two apart whoever arrives first', async () => {
    await using app = await startTestApp({}, { background: false });
    const [a, b, c] = await connectMany(app.url, 3, ['A', 'B', 'C']);
    try {
      await a!.api.match.block.mutate({ userId: b!.userId });
      await a!.api.match.block.mutate({ userId: b!.userId }); // twice is harmless
      expect(await blockRows(app)).toEqual([{ blocker_id: a!.userId, blocked_id: b!.userId }]);
      expect(await blockSet(app, a!)).toEqual([b!.userId]);

      // The blocked user arrives second...
      await enqueue(a!);
      expect((await enqueue(b!)).match).toBeNull();
      await app.server.services.match.tick();
      expect(await queue(app)).toEqual([a!.userId, b!.userId]);
      // ...and first: C takes A, then A comes back while B waits, and still does not meet B.
      const ac = (await enqueue(c!)).match!;
      await c!.api.match.end.mutate({ matchId: ac.matchId });
      await app.server.services.match.tick();
      expect(await stateOf(app, a!)).toBe('WAITING');
      expect(await queue(app)).toEqual([a!.userId, b!.userId]);
    } finally {
      await closeAll([a!, b!, c!]);
    }
  });

  it('after match.unblock the two are paired again, and the block is gone from Postgres and Redis', async () => {
    await using app = await startTestApp();
    const [a, b] = await connectMany(app.url, 2, ['A', 'B']);
    try {
      await b!.api.match.block.mutate({ userId: a!.userId });
      await enqueue(a!);
      expect((await enqueue(b!)).match).toBeNull();
      await b!.api.match.unblock.mutate({ userId: a!.userId });
      expect(await blockRows(app)).toEqual([]);
      expect(await blockSet(app, b!)).toEqual([]);
      // The background sweep pairs the two waiting users.
      await matchedWith(a!, b!);
    } finally {
      await closeAll([a!, b!]);
    }
  });

  it('a block also keeps the two apart in a pool first used after the block was made', async () => {
    await using app = await startTestApp({}, { background: false });
    const [a, b] = await connectMany(app.url, 2, ['A', 'B']);
    try {
      await a!.api.match.block.mutate({ userId: b!.userId });
      await enqueue(a!, { language: 'de' });
      expect((await enqueue(b!, { language: 'de' })).match).toBeNull();
    } finally {
      await closeAll([a!, b!]);
    }
  });
});
