import { describe, expect, it } from 'vitest';
import type { MatchEvent } from '../../server/events/types';
import { POOL, TEST_LIMITS, openStore, type StoreFixture } from './fixtures/store';

/**
 * Who may be offered to whom, at the level of the scripts: only present people, and the recent-
 * partner rule counts meetings (both reached IN_CALL, or one skipped or ended), not attempts.
 */
const GRACE = 60_000;

const GRACES = { graceMs: GRACE, leaveGraceMs: GRACE, timeoutMs: 60_000 };

const drop = (fx: StoreFixture, uid: string) => fx.store.presence({ uid, pool: POOL, mode: 'dropped', ...GRACES });
const back = (fx: StoreFixture, uid: string) => fx.store.presence({ uid, pool: POOL, mode: 'seen', ...GRACES });
const queued = (events: MatchEvent[]) => events.filter((e) => e.type === 'queued');
const pair = (m: { a: string; b: string }) => [m.a, m.b].sort();

async function enqueue(fx: StoreFixture, uid: string) {
  const r = await fx.store.enqueue({ uid, pool: POOL });
  fx.clock.advance(10);
  return r;
}

describe('only present people are offered', () => {
  it('a waiting user whose connection dropped keeps their place but is not offered to a newcomer', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'a');
    await drop(fx, 'a');

    const r = await enqueue(fx, 'b');

    expect(r.match).toBeNull();
    expect((await fx.view('a')).hash).toMatchObject({ state: 'WAITING' });
    expect(await fx.waitingOrder()).toEqual(['a', 'b']);
    // b is told they are first: a, absent, does not count.
    expect(queued((await fx.view('b')).events).at(-1)).toMatchObject({ position: 1 });
  });

  it('however many absent users wait ahead of and behind them, two present users find each other', async () => {
    await using fx = await openStore({ limits: { scanLimit: 3 } });
    for (const uid of ['x1', 'x2', 'x3', 'x4']) {
      await enqueue(fx, uid);
      await drop(fx, uid);
    }
    await enqueue(fx, 'present');
    await drop(fx, 'present'); // for a moment, so the ys do not pair with them
    for (const uid of ['y1', 'y2', 'y3', 'y4']) {
      await enqueue(fx, uid);
      await drop(fx, uid);
    }
    expect((await back(fx, 'present')).matches).toEqual([]);

    const r = await enqueue(fx, 'newcomer');

    expect(r.match).toMatchObject({ a: 'newcomer', b: 'present' });
  });

  it('on return they are matched at once with whoever suitable waits', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'a');
    await drop(fx, 'a');
    await enqueue(fx, 'b');

    const r = await back(fx, 'a');

    expect(r.changed).toBe(true);
    expect(r.matches.map(pair)).toEqual([['a', 'b']]);
    expect((await fx.view('b')).events.at(-1)).toMatchObject({ type: 'matched', partnerId: 'a' });
  });

  it('an absent user is not paired by the sweep either, and is once the presence sweep sees them back', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'a');
    await drop(fx, 'a');
    await enqueue(fx, 'b');

    expect((await fx.store.sweep(POOL)).matches).toEqual([]);
    // Back on another process: only last-seen moved (the periodic refresh), no signal went through.
    await fx.store.touch(new Map([[POOL, ['a']]]), fx.clock.now());
    const r = await fx.store.graces(POOL, GRACES);

    expect(r.back).toEqual(['a']);
    expect(r.matches.map(pair)).toEqual([['a', 'b']]);
  });

  it('a partner re-queued while absent is not offered until back', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'a');
    const m = (await enqueue(fx, 'b')).match!;
    await drop(fx, 'a');
    await fx.store.leave({ uid: 'b', pool: POOL, reason: 'end', matchId: m.matchId });

    const r = await enqueue(fx, 'c');

    expect(r.match).toBeNull();
    expect(await fx.waitingOrder()).toEqual(['a', 'c']);
    expect((await back(fx, 'a')).matches.map(pair)).toEqual([['a', 'c']]);
  });

  it('queue positions count present users only', async () => {
    await using fx = await openStore();
    // Interests nobody shares and that never relax: they wait without being paired.
    const wait = async (uid: string) => {
      await fx.store.enqueue({ uid, pool: POOL, interests: [`only-${uid}`] });
      fx.clock.advance(10);
    };
    await wait('p1');
    await wait('x');
    await drop(fx, 'x');
    await wait('p2');

    expect(queued((await fx.view('p2')).events).at(-1)).toMatchObject({ position: 2 });
    await back(fx, 'x');
    await fx.store.sweep(POOL);
    expect(queued((await fx.view('p2')).events).at(-1)).toMatchObject({ position: 3 });
  });
});

describe('recent partners are people met, not attempts', () => {
  it('a pair that reached IN_CALL is not paired again', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'a');
    const m = (await enqueue(fx, 'b')).match!;
    await fx.store.joined({ uid: 'a', pool: POOL, matchId: m.matchId });
    await fx.store.joined({ uid: 'b', pool: POOL, matchId: m.matchId });
    await fx.store.leave({ uid: 'a', pool: POOL, reason: 'disconnect', matchId: m.matchId });

    expect((await enqueue(fx, 'a')).match).toBeNull();
  });

  it('a skip while connecting is a decision about this partner: they are not paired again', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'a');
    const m = (await enqueue(fx, 'b')).match!;

    const r = await fx.store.leave({ uid: 'b', pool: POOL, reason: 'skip', matchId: m.matchId });

    expect(r.matches).toEqual([]);
    expect(await fx.waitingOrder()).toEqual(['a', 'b']);
  });

  it('a CONNECTING deadline with a no-show is not a meeting: the two may be paired again', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'a');
    const m = (await enqueue(fx, 'b')).match!;
    await fx.store.joined({ uid: 'a', pool: POOL, matchId: m.matchId });
    fx.clock.advance(TEST_LIMITS.connectMs + 1);
    await fx.store.expire(POOL);
    expect((await fx.view('b')).hash).toMatchObject({ state: 'IDLE' });

    const again = await enqueue(fx, 'b');

    expect(again.match && pair(again.match)).toEqual(['a', 'b']);
  });
});

describe('every pair is announced or undone', () => {
  it('a pair never announced goes back to both places at its deadline, with no notice, and is tried again', async () => {
    await using fx = await openStore({ wiring: { matchMode: () => ({ mode: 'livekit', defer: true }) } });
    await fx.store.enqueue({ uid: 'f', pool: POOL, interests: ['only-f'] });
    fx.clock.advance(10);
    await enqueue(fx, 'a');
    const scoreA = await fx.score('a', 'WAITING');
    const m = (await enqueue(fx, 'b')).match!;
    const scoreB = fx.clock.now() - 10;
    // Nobody announces it (the process making its room died); someone else holds one place.
    await drop(fx, 'b');
    fx.clock.advance(TEST_LIMITS.connectMs + 1);

    const r = await fx.store.expire(POOL);

    expect(r.expired).toEqual([m.matchId]);
    expect(r.matches).toEqual([]);
    expect(await fx.waitingOrder()).toEqual(['f', 'a', 'b']);
    expect(await fx.score('a', 'WAITING')).toBe(scoreA);
    expect(await fx.score('b', 'WAITING')).toBe(scoreB);
    for (const uid of ['a', 'b']) {
      const types = (await fx.view(uid)).events.map((e) => e.type);
      expect(types).not.toContain('notice');
      expect(types).not.toContain('matched');
    }
    const ended = (await fx.outbox()).filter((x) => x.kind === 'match_ended' && x.matchId === m.matchId);
    expect(ended).toEqual([expect.objectContaining({ reason: 'unannounced' })]);
    // b comes back: the two never met, so they are paired again.
    expect((await back(fx, 'b')).matches.map(pair)).toEqual([['a', 'b']]);
  });

  it('an announced pair whose users never join ends as before (both told, both at rest)', async () => {
    await using fx = await openStore({ wiring: { matchMode: () => ({ mode: 'livekit', defer: true }) } });
    await enqueue(fx, 'a');
    const m = (await enqueue(fx, 'b')).match!;
    await fx.store.announce({ pool: POOL, matchId: m.matchId, mode: 'direct', forA: {}, forB: {} });
    fx.clock.advance(TEST_LIMITS.connectMs + 1);

    await fx.store.expire(POOL);

    for (const uid of ['a', 'b']) {
      const v = await fx.view(uid);
      expect(v.hash).toMatchObject({ state: 'IDLE' });
      expect(v.events.at(-1)).toMatchObject({ type: 'notice', code: 'CONNECT_TIMEOUT' });
    }
  });
});

describe('absence never outlives its signal', () => {
  it('a user whose hash says dropped without a grace running is back at their next sign of life', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'a');
    await fx.redis.hset(`${fx.prefix}:{p:${POOL}}:user:a`, 'droppedAt', String(fx.clock.now()));
    await enqueue(fx, 'b');
    expect(await fx.waitingOrder()).toEqual(['a', 'b']);

    const r = await back(fx, 'a');

    expect(r.matches.map(pair)).toEqual([['a', 'b']]);
  });
});
