import { describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import type { TestUser } from '../support/client';
import { closeAll, connectMany, enqueue, history, outbox, queue, stateOf } from './support';

async function versionOf(app: TestApp, u: TestUser): Promise<number> {
  return (await app.server.services.store.getUser(u.userId)).version;
}

/** `second` arrives while `first` waits; returns the match id. */
async function meet(first: TestUser, second: TestUser, interests?: string[]): Promise<string> {
  await enqueue(first, { interests });
  return (await enqueue(second, { interests })).match!.matchId;
}

describe('matchmaking: retries and races apply once', () => {
  // The drain is off (background: false), so the outbox holds every audit record written.
  it('a skip and an end retried with the same idempotencyKey apply once and answer the same', async () => {
    await using app = await startTestApp({}, { background: false });
    const [a, b, c] = await connectMany(app.url, 3, ['A', 'B', 'C']);
    try {
      const ab = await meet(b!, a!);
      const skip = await a!.api.match.skip.mutate({ matchId: ab, idempotencyKey: 'skip-0001' });
      const [records, version] = [(await outbox(app)).length, await versionOf(app, a!)];
      expect(await a!.api.match.skip.mutate({ matchId: ab, idempotencyKey: 'skip-0001' })).toEqual(skip);
      expect((await outbox(app)).length).toBe(records);
      expect(await versionOf(app, a!)).toBe(version);

      const cb = (await enqueue(c!)).match!.matchId;
      const end = await c!.api.match.end.mutate({ matchId: cb, idempotencyKey: 'end-00001' });
      const [records2, version2] = [(await outbox(app)).length, await versionOf(app, c!)];
      expect(await c!.api.match.end.mutate({ matchId: cb, idempotencyKey: 'end-00001' })).toEqual(end);
      expect((await outbox(app)).length).toBe(records2);
      expect(await versionOf(app, c!)).toBe(version2);
      expect((await outbox(app)).filter((r) => r.kind === 'match_ended')).toHaveLength(2);
    } finally {
      await closeAll([a!, b!, c!]);
    }
  });

  it('an enqueue retried with the same idempotencyKey applies once', async () => {
    await using app = await startTestApp({}, { background: false });
    const [a] = await connectMany(app.url, 1);
    try {
      await enqueue(a!, { idempotencyKey: 'enqueue-0001' });
      const [records, version] = [(await outbox(app)).length, await versionOf(app, a!)];
      await enqueue(a!, { idempotencyKey: 'enqueue-0001' }).catch(() => null);
      expect((await outbox(app)).length).toBe(records);
      expect(await versionOf(app, a!)).toBe(version);
      expect(await queue(app)).toEqual([a!.userId]);
    } finally {
      await closeAll([a!]);
    }
  });

  it("an enqueue retried with the same idempotencyKey gets the first call's answer", async () => {
    await using app = await startTestApp({}, { background: false });
    const [a] = await connectMany(app.url, 1);
    try {
      const first = await enqueue(a!, { idempotencyKey: 'enqueue-0002' });
      expect(await enqueue(a!, { idempotencyKey: 'enqueue-0002' })).toEqual(first);
    } finally {
      await closeAll([a!]);
    }
  });

  it('both users skipping the same match at the same moment end it once', async () => {
    // Each pair shares an interest nobody else has, so after the skips everyone stays in the queue.
    await using app = await startTestApp({ INTEREST_RELAX_MS: '600000' }, { background: false });
    const users = await connectMany(app.url, 10);
    try {
      const pairs: Array<readonly [TestUser, TestUser, string]> = [];
      for (let i = 0; i < users.length; i += 2) pairs.push([users[i]!, users[i + 1]!, await meet(users[i]!, users[i + 1]!, [`pair${i}`])]);
      const replies = await Promise.all(
        pairs.map(([x, y, mid]) => Promise.all([x.api.match.skip.mutate({ matchId: mid }), y.api.match.skip.mutate({ matchId: mid })])),
      );
      const ended = (await outbox(app)).filter((r) => r.kind === 'match_ended');
      for (const [k, [x, y, mid]] of pairs.entries()) {
        const [rx, ry] = replies[k]!;
        expect([rx.already, ry.already].sort()).toEqual([false, true]);
        expect(ended.filter((r) => r.matchId === mid)).toHaveLength(1);
        expect(await stateOf(app, x)).toBe('WAITING');
        expect(await stateOf(app, y)).toBe('WAITING');
        const told = [...(await history(app, x.userId)), ...(await history(app, y.userId))].filter((e) => e.event.type === 'partner_left');
        expect(told).toHaveLength(1);
      }
    } finally {
      await closeAll(users);
    }
  });
});

describe('matchmaking: the CONNECTING deadline', () => {
  const FAST = { CONNECTING_TIMEOUT_MS: '300', INTEREST_RELAX_MS: '600000' };

  it('when only one side joined in time, that side goes to the front of the queue and the other rests with a notice', async () => {
    await using app = await startTestApp(FAST);
    const [a, b, c] = await connectMany(app.url, 3, ['A', 'B', 'C']);
    try {
      const mid = await meet(b!, a!);
      await enqueue(c!, { interests: ['chess'] }); // waits; A must end up ahead of C
      await a!.api.match.joined.mutate({ matchId: mid });
      expect(await b!.next('notice')).toMatchObject({ code: 'CONNECT_TIMEOUT' });
      expect(await a!.next('partner_left')).toMatchObject({ matchId: mid, reason: 'timeout' });
      expect(await a!.next('requeued')).toMatchObject({ front: true });
      expect(await stateOf(app, b!)).toBe('IDLE');
      expect(await queue(app)).toEqual([a!.userId, c!.userId]);
      expect(a!.events.some((e) => e.event.type === 'notice')).toBe(false);
    } finally {
      await closeAll([a!, b!, c!]);
    }
  });

  it('when neither side joined in time, both rest with a notice', async () => {
    await using app = await startTestApp(FAST);
    const [a, b] = await connectMany(app.url, 2, ['A', 'B']);
    try {
      await meet(a!, b!);
      for (const u of [a!, b!]) expect(await u.next('notice')).toMatchObject({ code: 'CONNECT_TIMEOUT' });
      expect(await stateOf(app, a!)).toBe('IDLE');
      expect(await stateOf(app, b!)).toBe('IDLE');
    } finally {
      await closeAll([a!, b!]);
    }
  });

  it('when both sides join, they reach IN_CALL and the deadline is dropped', async () => {
    await using app = await startTestApp(FAST);
    const [a, b] = await connectMany(app.url, 2, ['A', 'B']);
    try {
      const mid = await meet(a!, b!);
      await a!.api.match.joined.mutate({ matchId: mid });
      expect(await b!.api.match.joined.mutate({ matchId: mid })).toMatchObject({ state: 'IN_CALL', both: true });
      for (const u of [a!, b!]) await u.next('state', (e) => e.to === 'IN_CALL');
      const store = app.server.services.store;
      expect(await app.server.services.redis.zscore(store.keys.deadlines('global'), mid)).toBeNull();
      expect(await stateOf(app, a!)).toBe('IN_CALL');
    } finally {
      await closeAll([a!, b!]);
    }
  });
});
