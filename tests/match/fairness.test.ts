import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { closeAll, connectMany, enqueue, matchedWith, queue, stateOf } from './support';

// Interests never relax during these tests unless a test says so.
const STRICT = { INTEREST_RELAX_MS: '600000' };

describe('matchmaking: first in, first out', () => {
  it('users who enqueue one after another are paired in arrival order: (1,2), (3,4), (5,6)', async () => {
    await using app = await startTestApp(STRICT);
    const users = await connectMany(app.url, 6);
    try {
      for (const u of users) await enqueue(u);
      for (let i = 0; i < users.length; i += 2) {
        const [first, second] = [users[i]!, users[i + 1]!];
        const m = await matchedWith(first, second);
        expect(await matchedWith(second, first)).toMatchObject({ matchId: m.matchId, role: 'impolite' });
        expect(m.role).toBe('polite');
      }
      expect(await queue(app)).toEqual([]);
    } finally {
      await closeAll(users);
    }
  });

  it('among several eligible waiting users, a newcomer is paired with the one who has waited longest', async () => {
    await using app = await startTestApp(STRICT);
    const waiting = await connectMany(app.url, 4);
    const newcomers = await connectMany(app.url, 4);
    try {
      // Distinct interests keep the four apart; every newcomer shares one with each of them.
      for (const [i, w] of waiting.entries()) await enqueue(w, { interests: [`w${i}`] });
      expect(await queue(app)).toEqual(waiting.map((w) => w.userId));
      for (const [i, n] of newcomers.entries()) {
        const r = await enqueue(n, { interests: ['w3', 'w2', 'w1', 'w0'] });
        expect(r.match).toMatchObject({ a: n.userId, b: waiting[i]!.userId });
      }
    } finally {
      await closeAll([...waiting, ...newcomers]);
    }
  });

  it('a newcomer is paired with the oldest waiting user they may meet: with A and B blocked, C meets A', async () => {
    await using app = await startTestApp(STRICT);
    const [a, b, c] = await connectMany(app.url, 3, ['A', 'B', 'C']);
    try {
      await a!.api.match.block.mutate({ userId: b!.userId });
      await enqueue(a!);
      expect((await enqueue(b!)).match).toBeNull();
      expect(await queue(app)).toEqual([a!.userId, b!.userId]);
      expect((await enqueue(c!)).match).toMatchObject({ a: c!.userId, b: a!.userId });
      await matchedWith(a!, c!);
      expect(await queue(app)).toEqual([b!.userId]);
    } finally {
      await closeAll([a!, b!, c!]);
    }
  });

  it('a user for whom only excluded candidates wait keeps waiting, and the users behind them are still matched', async () => {
    // No background tick: the test runs the sweep itself, so "keeps waiting" is checked, not hoped for.
    await using app = await startTestApp(STRICT, { background: false });
    const [x, y1, y2, z] = await connectMany(app.url, 4, ['X', 'Y1', 'Y2', 'Z']);
    try {
      await x!.api.match.block.mutate({ userId: y1!.userId });
      await y2!.api.match.block.mutate({ userId: x!.userId });
      await enqueue(x!);
      expect((await enqueue(y1!)).match).toBeNull();
      await app.server.services.match.tick();
      expect(await stateOf(app, x!)).toBe('WAITING');
      expect(await stateOf(app, y1!)).toBe('WAITING');
      // Y2 may not meet X either, and is paired with Y1, who waited behind X.
      expect((await enqueue(y2!)).match).toMatchObject({ a: y2!.userId, b: y1!.userId });
      await app.server.services.match.tick();
      expect(await queue(app)).toEqual([x!.userId]);
      // X is still first in line for anyone they may meet.
      expect((await enqueue(z!)).match).toMatchObject({ a: z!.userId, b: x!.userId });
    } finally {
      await closeAll([x!, y1!, y2!, z!]);
    }
  });

  it('two users who may meet are paired even when the first MATCH_SCAN_LIMIT waiting users are all excluded for them', async () => {
    await using app = await startTestApp({ ...STRICT, MATCH_SCAN_LIMIT: '2' }, { background: false });
    const [x1, x2, y, z] = await connectMany(app.url, 4, ['X1', 'X2', 'Y', 'Z']);
    try {
      for (const [u, v] of [
        [x1, x2],
        [x1, y],
        [x1, z],
        [x2, y],
        [x2, z],
      ] as const) {
        await u!.api.match.block.mutate({ userId: v!.userId });
      }
      for (const u of [x1, x2, y, z]) await enqueue(u!);
      await app.server.services.match.tick();
      expect(await stateOf(app, y!)).toBe('CONNECTING');
    } finally {
      await closeAll([x1!, x2!, y!, z!]);
    }
  });
});
