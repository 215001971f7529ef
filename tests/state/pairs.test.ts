import { describe, expect, it } from 'vitest';
import type { OutboxRecord } from '../../server/audit/records';
import { POOL, openStore, type StoreFixture } from './fixtures/store';

/**
 * Fillers wait in the queue without ever being matched here: each has an interest nobody else
 * shares and the interest never relaxes (TEST_LIMITS.relaxMs), so they only give the queue an order.
 */
async function filler(fx: StoreFixture, uid: string) {
  await fx.store.enqueue({ uid, pool: POOL, interests: [`only-${uid}`] });
  fx.clock.advance(10);
}

/** a waits, b arrives and is matched with a at once. */
async function matchPair(fx: StoreFixture, a = 'a', b = 'b') {
  await fx.store.enqueue({ uid: a, pool: POOL });
  fx.clock.advance(10);
  const r = await fx.store.enqueue({ uid: b, pool: POOL });
  fx.clock.advance(10);
  expect(r.match).not.toBeNull();
  return r.match!.matchId;
}

const transitionsOf = (records: OutboxRecord[], uid: string) =>
  records.filter((r): r is Extract<OutboxRecord, { kind: 'transition' }> => r.kind === 'transition' && r.userId === uid).map((r) => `${r.from}->${r.to}`);

const endedRecords = (records: OutboxRecord[], matchId: string) => records.filter((r) => r.kind === 'match_ended' && r.matchId === matchId);

describe('pair operations are all-or-nothing', () => {
  it('enqueueing two users moves both to CONNECTING in one step with the same matchId', async () => {
    await using fx = await openStore();
    const first = await fx.store.enqueue({ uid: 'a', pool: POOL });
    expect(first).toMatchObject({ state: 'WAITING', match: null });

    const r = await fx.store.enqueue({ uid: 'b', pool: POOL });

    expect(r.state).toBe('CONNECTING');
    expect(r.match).toMatchObject({ a: 'b', b: 'a' });
    const [a, b] = [await fx.view('a'), await fx.view('b')];
    expect(a.sets).toEqual(['CONNECTING']);
    expect(b.sets).toEqual(['CONNECTING']);
    expect(a.hash).toMatchObject({ state: 'CONNECTING', matchId: r.match!.matchId, matchedWith: 'b' });
    expect(b.hash).toMatchObject({ state: 'CONNECTING', matchId: r.match!.matchId, matchedWith: 'a' });
    const created = (await fx.outbox()).filter((x) => x.kind === 'match_created');
    expect(created).toEqual([expect.objectContaining({ matchId: r.match!.matchId, userA: 'b', userB: 'a' })]);
  });

  it('both reporting joined moves the pair to IN_CALL together', async () => {
    await using fx = await openStore();
    const mid = await matchPair(fx);
    await expect(fx.store.joined({ uid: 'a', pool: POOL, matchId: mid })).resolves.toMatchObject({ state: 'CONNECTING', both: false });
    await expect(fx.store.joined({ uid: 'b', pool: POOL, matchId: mid })).resolves.toMatchObject({ state: 'IN_CALL', both: true });
    expect((await fx.view('a')).sets).toEqual(['IN_CALL']);
    expect((await fx.view('b')).sets).toEqual(['IN_CALL']);
  });

  it('skip moves both through DISCONNECTING back to WAITING, the partner at the front of the queue', async () => {
    await using fx = await openStore();
    await filler(fx, 'f1');
    await filler(fx, 'f2');
    const mid = await matchPair(fx);

    const r = await fx.store.leave({ uid: 'a', pool: POOL, reason: 'skip', matchId: mid });

    expect(r).toMatchObject({ state: 'WAITING', already: false, partnerId: 'b', matches: [] });
    expect(await fx.waitingOrder()).toEqual(['b', 'f1', 'f2', 'a']);
    const records = await fx.outbox();
    expect(transitionsOf(records, 'a')).toEqual(['IDLE->WAITING', 'WAITING->CONNECTING', 'CONNECTING->DISCONNECTING', 'DISCONNECTING->WAITING']);
    expect(transitionsOf(records, 'b')).toEqual(['IDLE->WAITING', 'WAITING->CONNECTING', 'CONNECTING->DISCONNECTING', 'DISCONNECTING->WAITING']);
    const b = await fx.view('b');
    expect(b.hash).not.toHaveProperty('matchId');
    expect(b.events.map((e) => e.type)).toEqual(expect.arrayContaining(['partner_left', 'requeued']));
    expect(b.events.find((e) => e.type === 'partner_left')).toMatchObject({ matchId: mid, reason: 'skip' });
    expect((await fx.view('a')).hash.totalSkips).toBe('1');
  });

  it('end rests the ender in IDLE and puts the partner at the front of the queue', async () => {
    await using fx = await openStore();
    await filler(fx, 'f1');
    await filler(fx, 'f2');
    const mid = await matchPair(fx);
    await fx.store.joined({ uid: 'a', pool: POOL, matchId: mid });
    await fx.store.joined({ uid: 'b', pool: POOL, matchId: mid });

    const r = await fx.store.leave({ uid: 'a', pool: POOL, reason: 'end', matchId: mid });

    expect(r).toMatchObject({ state: 'IDLE', partnerId: 'b' });
    expect(await fx.waitingOrder()).toEqual(['b', 'f1', 'f2']);
    const a = await fx.view('a');
    expect(a.sets).toEqual(['IDLE']);
    expect(a.hash).toMatchObject({ state: 'IDLE', previousState: 'DISCONNECTING', totalEnds: '1' });
    expect(transitionsOf(await fx.outbox(), 'a').slice(-2)).toEqual(['IN_CALL->DISCONNECTING', 'DISCONNECTING->IDLE']);
    expect(endedRecords(await fx.outbox(), mid)).toEqual([expect.objectContaining({ reason: 'end', endedBy: 'a' })]);
  });

  it('both pressing skip at the same moment ends the match once; the second reports already', async () => {
    await using fx = await openStore();
    const mid = await matchPair(fx);
    const other = await fx.secondStore();

    const [ra, rb] = await Promise.all([
      fx.store.leave({ uid: 'a', pool: POOL, reason: 'skip', matchId: mid }),
      other.leave({ uid: 'b', pool: POOL, reason: 'skip', matchId: mid }),
    ]);

    expect([ra.already, rb.already].sort()).toEqual([false, true]);
    const records = await fx.outbox();
    expect(endedRecords(records, mid)).toHaveLength(1);
    // Each user went CONNECTING -> DISCONNECTING -> WAITING exactly once for this match.
    const leaving = records.filter((x) => x.kind === 'transition' && x.matchId === mid && x.from !== 'WAITING');
    expect(leaving.map((x) => x.kind === 'transition' && `${x.userId}:${x.from}->${x.to}`).sort()).toEqual([
      'a:CONNECTING->DISCONNECTING',
      'a:DISCONNECTING->WAITING',
      'b:CONNECTING->DISCONNECTING',
      'b:DISCONNECTING->WAITING',
    ]);
    expect((await fx.view('a')).sets).toEqual(['WAITING']);
    expect((await fx.view('b')).sets).toEqual(['WAITING']);
  });

  it('leaving a match that already ended reports already and changes nothing', async () => {
    await using fx = await openStore();
    const mid = await matchPair(fx);
    await fx.store.leave({ uid: 'a', pool: POOL, reason: 'end', matchId: mid });
    const before = [await fx.view('a'), await fx.view('b'), await fx.outboxLength()];
    await expect(fx.store.leave({ uid: 'a', pool: POOL, reason: 'skip', matchId: mid })).resolves.toMatchObject({ already: true, state: 'IDLE' });
    expect([await fx.view('a'), await fx.view('b'), await fx.outboxLength()]).toEqual(before);
  });
});

describe('rollback of a match whose call could not start', () => {
  it('puts both users back to WAITING at the queue positions they had before the match', async () => {
    await using fx = await openStore();
    await filler(fx, 'f1');
    await fx.store.enqueue({ uid: 'a', pool: POOL });
    const scoreA = await fx.score('a', 'WAITING');
    fx.clock.advance(10);
    await filler(fx, 'f2');
    const scoreB = fx.clock.now();
    const { match } = await fx.store.enqueue({ uid: 'b', pool: POOL });
    expect(match).toMatchObject({ a: 'b', b: 'a' });
    fx.clock.advance(5000);
    await fx.store.pausePool(POOL, 'test: so the two wait where the rollback put them', 60_000);

    const r = await fx.store.rollback({ pool: POOL, matchId: match!.matchId });

    expect(r.ok).toBe(true);
    expect([...r.users].sort()).toEqual(['a', 'b']);
    expect(await fx.waitingOrder()).toEqual(['f1', 'a', 'f2', 'b']);
    expect(await fx.score('a', 'WAITING')).toBe(scoreA);
    expect(await fx.score('b', 'WAITING')).toBe(scoreB);
    for (const uid of ['a', 'b']) {
      const v = await fx.view(uid);
      expect(v.sets).toEqual(['WAITING']);
      expect(v.hash).not.toHaveProperty('matchId');
      expect(v.events.filter((e) => e.type === 'notice').at(-1)).toMatchObject({ type: 'notice', code: 'CALL_SETUP_FAILED' });
    }
    expect(endedRecords(await fx.outbox(), match!.matchId)).toEqual([expect.objectContaining({ reason: 'rollback' })]);
  });

  it('a pair undone has not met: the two are paired again at once', async () => {
    await using fx = await openStore();
    const mid = await matchPair(fx);

    const r = await fx.store.rollback({ pool: POOL, matchId: mid });

    expect(r.matches).toHaveLength(1);
    expect([r.matches[0]!.a, r.matches[0]!.b].sort()).toEqual(['a', 'b']);
    expect(r.matches[0]!.matchId).not.toBe(mid);
    expect((await fx.view('a')).hash).toMatchObject({ state: 'CONNECTING', matchId: r.matches[0]!.matchId });
  });

  it('refuses a match that is no longer intact and changes nothing', async () => {
    await using fx = await openStore();
    const mid = await matchPair(fx);
    await fx.store.leave({ uid: 'a', pool: POOL, reason: 'skip', matchId: mid });
    const before = [await fx.view('a'), await fx.view('b'), await fx.outboxLength()];
    await expect(fx.store.rollback({ pool: POOL, matchId: mid })).resolves.toEqual({ ok: false, users: [], matches: [] });
    expect([await fx.view('a'), await fx.view('b'), await fx.outboxLength()]).toEqual(before);
  });
});
