import { describe, expect, it, vi } from 'vitest';
import { PoolGuessMissedError } from '../../server/state/store';
import { startTestApp } from '../support/app';
import { openStore } from '../state/fixtures/store';
import { closeAll, connectMany, enqueue, stateOf } from './support';

// A process guesses a user's pool from the events it delivered them (StateStore.poolHint) and
// skips asking Redis; the scripts check the guess, so a wrong one only costs a second call.
describe('matchmaking: the pool a call runs in', () => {
  it('a wrong guess runs nothing and the call goes to the pool Redis names', async () => {
    let hint: string | null = null;
    await using fx = await openStore({ wiring: { poolHint: () => hint } });
    await fx.store.enqueue({ uid: 'a', pool: 'en' });
    await fx.redis.set(fx.store.keys.userPool('a'), 'en');
    const before = await fx.outboxLength();

    await expect(fx.store.cancel({ uid: 'a', pool: 'global', guess: true })).rejects.toBeInstanceOf(PoolGuessMissedError);
    await expect(fx.store.enqueue({ uid: 'a', pool: 'global', guess: true })).rejects.toBeInstanceOf(PoolGuessMissedError);
    expect(await fx.redis.exists(fx.store.keys.user('global', 'a'))).toBe(0);
    expect(await fx.outboxLength()).toBe(before);

    hint = 'global';
    const r = await fx.store.inUserPool('a', (pool, guess) => fx.store.cancel({ uid: 'a', pool, guess }));
    expect(r.state).toBe('IDLE');
    expect((await fx.store.getUser('a', 'en')).state).toBe('IDLE');
  });

  it('a user moving to another pool leaves no hash behind, so a stale guess of the old pool misses', async () => {
    await using app = await startTestApp();
    const [a, b, c] = await connectMany(app.url, 3, ['A', 'B', 'C']);
    const store = app.server.services.store;
    try {
      // In `global` first: the hub now guesses `global` for A.
      await enqueue(a!);
      await a!.api.match.cancel.mutate();
      expect(store.poolHint(a!.userId)).toBe('global');

      await enqueue(a!, { language: 'de' });
      expect(await store.poolOf(a!.userId)).toBe('de');
      // The hash left `global` with A: only `de` holds it, and its version carried on.
      const kv = app.server.services.redis;
      expect(await kv.exists(store.keys.user('global', a!.userId))).toBe(0);
      expect((await store.getUser(a!.userId)).version).toBe(3);

      // B meets A in `de`; a stale guess of `global` for A's end still ends the right match.
      const { match } = await enqueue(b!, { language: 'de' });
      expect(match).toMatchObject({ b: a!.userId });
      vi.spyOn(app.server.services.hub, 'poolHint').mockReturnValue('global');
      await a!.api.match.end.mutate({ matchId: match!.matchId });
      expect(await stateOf(app, a!)).toBe('IDLE');
      expect(await b!.next('partner_left')).toMatchObject({ reason: 'end' });

      // Back to `global`: A and C meet there.
      await enqueue(c!);
      expect((await enqueue(a!)).match).toMatchObject({ a: a!.userId, b: c!.userId });
    } finally {
      await closeAll([a!, b!, c!]);
    }
  });

  it('a move is refused while the user is not at rest, and changes nothing', async () => {
    await using fx = await openStore();
    await fx.store.enqueue({ uid: 'a', pool: 'global' });
    await expect(fx.store.movePool('a', 'fr')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    expect(await fx.store.poolOf('a')).toBe('global');
    expect((await fx.view('a')).sets).toEqual(['WAITING']);
  });

  it('a call in the wrong state is refused with WRONG_STATE by the script alone, guessed or not', async () => {
    await using app = await startTestApp();
    const [a] = await connectMany(app.url, 1);
    try {
      await expect(a!.api.match.cancel.mutate()).rejects.toMatchObject({
        data: { appCode: 'WRONG_STATE', details: { current: 'IDLE', allowed: ['WAITING'] } },
      });
      await enqueue(a!);
      await expect(enqueue(a!)).rejects.toMatchObject({
        message: "You can't start looking while waiting.",
        data: { code: 'PRECONDITION_FAILED', appCode: 'WRONG_STATE' },
      });
      const retried = await a!.api.match.cancel.mutate({ idempotencyKey: 'cancel-0001' });
      expect(await a!.api.match.cancel.mutate({ idempotencyKey: 'cancel-0001' })).toEqual(retried);
    } finally {
      await closeAll([a!]);
    }
  });
});
