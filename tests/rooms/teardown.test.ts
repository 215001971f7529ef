import { describe, expect, it, vi } from 'vitest';
import { exponentialDelay } from '../../server/resilience/backoff';
import { openRooms, POOL, sharedDatabase, type RoomsFixture } from './fixture';

const database = sharedDatabase();

/** ann and bob matched and both in their room. */
async function inCall(t: RoomsFixture) {
  const { a, b, matchId } = await t.pair('ann', 'bob');
  const room = a!.livekit!.room;
  await t.lk.join(room, 'ann', a!.livekit!.token);
  await t.lk.join(room, 'bob', b!.livekit!.token);
  expect(await t.stateOf('ann')).toBe('IN_CALL');
  return { room, matchId, tokens: { ann: a!.livekit!.token, bob: b!.livekit!.token } };
}

function roomEvents(t: RoomsFixture, room: string) {
  return t.lk.sentWebhooks
    .filter((w) => w.payload.room?.name === room)
    .map((w) => [w.event, (w.payload.participant as { identity?: string } | undefined)?.identity]);
}

describe('ending a room', () => {
  it('skip deletes the room at once and disconnects both participants', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    await t.match.leave('ann', 'skip');
    await vi.waitFor(async () => expect(await t.record(room)).toMatchObject({ status: 'terminated', endReason: 'skip' }));
    await t.settle();
    expect(t.lk.room(room)).toBeUndefined();
    expect(roomEvents(t, room).slice(-3)).toEqual([
      ['participant_left', expect.any(String)],
      ['participant_left', expect.any(String)],
      ['room_finished', undefined],
    ]);
    expect(await t.rooms.records.indexed(POOL, 0, 10)).toEqual([]);
    expect(await t.fx.redis.pttl(t.rooms.records.record(POOL, room))).toBeGreaterThan(0);
    expect(await t.stateOf('bob')).toBe('WAITING');
  });

  it('end deletes the room too, and an old token that rejoins finds the room ended again', async () => {
    await using t = await openRooms(database());
    const { room, tokens } = await inCall(t);
    await t.match.leave('bob', 'end');
    await vi.waitFor(async () => expect((await t.record(room))?.status).toBe('terminated'));
    await t.settle();
    // LiveKit re-creates a room when someone joins it; the webhooks tell us, and we end it again.
    await t.lk.join(room, 'ann', tokens.ann).catch(() => undefined);
    await t.settle();
    expect(t.lk.room(room)).toBeUndefined();
    expect(await t.record(room)).toMatchObject({ status: 'terminated', endReason: expect.stringMatching(/^(unexpected_room|rejoined_after_end)$/) as unknown });
    expect(await t.stateOf('ann')).toBe('WAITING');
  });

  it('the CONNECTING deadline ends the room of a pair that never joined', async () => {
    await using t = await openRooms(database());
    const { a } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    t.fx.clock.advance(15_001);
    await t.match.tick();
    await vi.waitFor(async () => expect((await t.record(room))?.status).toBe('terminated'));
    expect(t.lk.room(room)).toBeUndefined();
    expect(await t.stateOf('ann')).toBe('IDLE');
  });

  it('a match ended any other way (a disconnect grace) has its room ended by the janitor', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    await t.fx.store.presence({ uid: 'ann', pool: POOL, mode: 'dropped', graceMs: 1000, leaveGraceMs: 1000, timeoutMs: 60_000 });
    t.fx.clock.advance(1001);
    await t.fx.store.graces(POOL, { timeoutMs: 60_000, graceMs: 1000, leaveGraceMs: 1000 });
    expect(t.lk.room(room)).toBeDefined();
    expect(await t.rooms.janitor.tick()).toMatchObject({ ended: 1 });
    expect(t.lk.room(room)).toBeUndefined();
    expect(await t.record(room)).toMatchObject({ status: 'terminated', endReason: 'match_ended' });
  });

  it('skip and the janitor asking at once delete the room once', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    await t.fx.store.leave({ uid: 'ann', pool: POOL, reason: 'skip' });
    await Promise.all([t.rooms.service.endForMatch(POOL, (await t.record(room))!.matchId, 'skip'), t.rooms.janitor.tick(), t.rooms.janitor.tick()]);
    await t.settle();
    expect(t.lk.calls('DeleteRoom')).toBe(1);
  });
});

describe('deletions that fail', () => {
  it('are queued durably and retried with backoff until LiveKit deletes the room, even by another process', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    t.lk.failAlways('DeleteRoom', 503);
    await t.match.leave('ann', 'end');
    await vi.waitFor(async () => expect(await t.record(room)).toMatchObject({ status: 'terminating', deleteAttempts: 1 }));
    expect(t.lk.calls('DeleteRoom')).toBe(4); // one policy run: the call and three retries
    const key = t.rooms.records.deletes(POOL);
    expect(Number(await t.fx.redis.zscore(key, room))).toBe(t.fx.clock.now() + exponentialDelay(1, 1000, 8000));
    expect(await t.fx.redis.pttl(t.rooms.records.record(POOL, room))).toBe(-1); // never expires while pending

    t.fx.clock.advance(999);
    expect(await t.rooms.janitor.tick()).toMatchObject({ retried: 0 });
    t.fx.clock.advance(1);
    expect(await t.rooms.janitor.tick()).toMatchObject({ retried: 1 });
    expect(await t.record(room)).toMatchObject({ status: 'terminating', deleteAttempts: 2, lastError: expect.stringContaining('injected failure') as unknown });
    expect(Number(await t.fx.redis.zscore(key, room))).toBe(t.fx.clock.now() + 2000);

    // This process goes away; another one finds the work in Redis once LiveKit is back.
    await t.rooms.stop();
    const other = await t.secondProcess();
    t.lk.clearFaults();
    t.fx.clock.advance(2000);
    expect(await other.janitor.tick()).toMatchObject({ retried: 1 });
    expect(t.lk.room(room)).toBeUndefined();
    expect(await t.record(room)).toMatchObject({ status: 'terminated' });
    expect(await t.fx.redis.zcard(key)).toBe(0);
    expect(await t.fx.redis.pttl(t.rooms.records.record(POOL, room))).toBeGreaterThan(0);
  });

  it('a deletion whose worker died is claimed again when its lease runs out', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    // Simulate a crash between the compare-and-set and the first attempt.
    await t.rooms.records.setStatus(POOL, room, 'terminating', ['active'], { endReason: 'end' }, t.fx.clock.now() + 10_000);
    expect(await t.rooms.janitor.tick()).toMatchObject({ retried: 0 });
    t.fx.clock.advance(10_000);
    expect(await t.rooms.janitor.tick()).toMatchObject({ retried: 1 });
    expect(t.lk.room(room)).toBeUndefined();
  });
});

describe('retry delays', () => {
  it('double from the base per attempt and stop at the cap', () => {
    expect([1, 2, 3, 4, 5, 40].map((n) => exponentialDelay(n, 1000, 8000))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });
});
