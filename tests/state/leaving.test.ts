import { describe, expect, it } from 'vitest';
import type { MatchEvent } from '../../server/events/types';
import { POOL, openStore, type StoreFixture } from './fixtures/store';

/**
 * session.leave at the level of the scripts: a page that said it is going gets LEAVE_GRACE_MS
 * instead of RECONNECT_GRACE_MS for the connection loss that follows (or already happened), and
 * nothing else changes.
 */
const GRACES = { graceMs: 10_000, leaveGraceMs: 2000, timeoutMs: 9000 };

const signal = (fx: StoreFixture, uid: string, mode: 'seen' | 'dropped' | 'leaving') => fx.store.presence({ uid, pool: POOL, mode, ...GRACES });
const sweep = (fx: StoreFixture) => fx.store.graces(POOL, GRACES);
const of = (events: MatchEvent[], type: MatchEvent['type']) => events.filter((e) => e.type === type);

/** Ann and Bob in a call. */
async function inCall(fx: StoreFixture) {
  await fx.store.enqueue({ uid: 'ann', pool: POOL });
  const m = (await fx.store.enqueue({ uid: 'bob', pool: POOL })).match!;
  await fx.store.joined({ uid: 'ann', pool: POOL, matchId: m.matchId });
  await fx.store.joined({ uid: 'bob', pool: POOL, matchId: m.matchId });
  return m.matchId;
}

describe('presence: leaving on purpose', () => {
  it('leave, then the socket closes: the partner is told of a short grace, and hears partner_left when it runs out', async () => {
    await using fx = await openStore();
    const matchId = await inCall(fx);
    await signal(fx, 'ann', 'leaving');
    fx.clock.advance(5);
    expect((await signal(fx, 'ann', 'dropped')).dueInMs).toBe(GRACES.leaveGraceMs);
    expect(of((await fx.view('bob')).events, 'partner_reconnecting')).toEqual([expect.objectContaining({ matchId, graceMs: GRACES.leaveGraceMs })]);

    fx.clock.advance(GRACES.leaveGraceMs - 1);
    expect((await sweep(fx)).disconnected).toEqual([]);
    fx.clock.advance(1);
    expect((await sweep(fx)).disconnected).toEqual(['ann']);
    expect(of((await fx.view('bob')).events, 'partner_left')).toEqual([expect.objectContaining({ matchId, reason: 'disconnect' })]);
    expect((await fx.view('bob')).hash.state).toBe('WAITING');
  });

  it('the socket closes, then leave: the running grace is cut to LEAVE_GRACE_MS from the leave, never lengthened', async () => {
    await using fx = await openStore();
    const matchId = await inCall(fx);
    await signal(fx, 'ann', 'dropped');
    fx.clock.advance(1000);
    expect((await signal(fx, 'ann', 'leaving')).dueInMs).toBe(GRACES.leaveGraceMs);
    fx.clock.advance(GRACES.leaveGraceMs);
    expect((await sweep(fx)).disconnected).toEqual(['ann']);
    expect(of((await fx.view('bob')).events, 'partner_left')).toEqual([expect.objectContaining({ matchId })]);

    // A leave after a grace that is already shorter keeps the shorter one.
    await using fx2 = await openStore();
    await inCall(fx2);
    await fx2.store.presence({ uid: 'ann', pool: POOL, mode: 'dropped', ...GRACES, graceMs: 500 });
    await signal(fx2, 'ann', 'leaving');
    fx2.clock.advance(500);
    expect((await sweep(fx2)).disconnected).toEqual(['ann']);
  });

  it('leave, close and back before the short grace ends (a reload): one partner_reconnecting, one partner_back, the call goes on', async () => {
    await using fx = await openStore();
    const matchId = await inCall(fx);
    await signal(fx, 'ann', 'leaving');
    await signal(fx, 'ann', 'dropped');
    fx.clock.advance(300);
    expect((await signal(fx, 'ann', 'seen')).changed).toBe(true);
    // Long after both graces, with the new socket refreshing last-seen as every process does.
    fx.clock.advance(GRACES.graceMs);
    await fx.store.touch(new Map([[POOL, ['ann', 'bob']]]), fx.clock.now());
    expect(await sweep(fx)).toMatchObject({ silent: [], disconnected: [] });
    const bob = await fx.view('bob');
    expect(of(bob.events, 'partner_reconnecting')).toHaveLength(1);
    expect(of(bob.events, 'partner_back')).toEqual([expect.objectContaining({ matchId })]);
    expect(of(bob.events, 'partner_left')).toEqual([]);
    expect((await fx.view('ann')).hash).toMatchObject({ state: 'IN_CALL', matchId });
  });

  it('a leave the connection outlives (the page stayed) does not shorten a drop long after it', async () => {
    await using fx = await openStore();
    await inCall(fx);
    await signal(fx, 'ann', 'leaving');
    fx.clock.advance(GRACES.timeoutMs + 1);
    expect((await signal(fx, 'ann', 'dropped')).dueInMs).toBe(GRACES.graceMs);
    expect(of((await fx.view('bob')).events, 'partner_reconnecting')).toEqual([expect.objectContaining({ graceMs: GRACES.graceMs })]);
    expect((await fx.view('ann')).hash).not.toHaveProperty('leaving');
  });

  it('a leave at rest, or by someone the pool has never seen, writes nothing', async () => {
    await using fx = await openStore();
    await fx.store.enqueue({ uid: 'ann', pool: POOL });
    await fx.store.cancel({ uid: 'ann', pool: POOL });
    const before = await fx.view('ann');
    const outbox = await fx.outboxLength();
    expect(await signal(fx, 'ann', 'leaving')).toMatchObject({ changed: false, dueInMs: null });
    expect(await signal(fx, 'nobody', 'leaving')).toMatchObject({ changed: false, dueInMs: null });
    expect(await fx.view('ann')).toEqual(before);
    expect(await fx.view('nobody')).toMatchObject({ hash: {}, events: [] });
    expect(await fx.outboxLength()).toBe(outbox);
  });
});
