import { RoomServiceClient } from 'livekit-server-sdk';
import { describe, expect, it } from 'vitest';
import { openRooms, POOL, sharedDatabase, type RoomsFixture } from './fixture';

const database = sharedDatabase();

const admin = (t: RoomsFixture) => new RoomServiceClient(t.lk.url, t.lk.apiKey, t.lk.apiSecret);

/** Reconcile as a later pass would: after the clock moved on from when the rooms were made. */
async function reconcile(t: RoomsFixture) {
  t.fx.clock.advance(1);
  const report = await t.rooms.reconciler!.run();
  await t.settle();
  return report;
}

describe('reconciliation after lost webhooks', () => {
  it('joins whose webhooks were lost are found, and the pair goes IN_CALL', async () => {
    await using t = await openRooms(database());
    const { a, b } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    t.lk.dropWebhooks(2);
    await t.lk.join(room, 'ann', a!.livekit!.token);
    await t.lk.join(room, 'bob', b!.livekit!.token);
    expect(await t.stateOf('ann')).toBe('CONNECTING');
    expect(await reconcile(t)).toMatchObject({ joined: 2 });
    expect(await t.stateOf('ann')).toBe('IN_CALL');
    expect(await t.stateOf('bob')).toBe('IN_CALL');
  });

  it('a departure whose webhook was lost ends the match for disconnect after the grace', async () => {
    await using t = await openRooms(database());
    const { a, b } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    await t.lk.join(room, 'ann', a!.livekit!.token);
    await t.lk.join(room, 'bob', b!.livekit!.token);
    t.lk.dropWebhooks(1);
    await t.lk.abort(room, 'bob');
    expect(await reconcile(t)).toMatchObject({ departures: 1 });
    t.fx.clock.advance(5000);
    expect(await t.rooms.janitor.tick()).toMatchObject({ departed: 1 });
    expect(await t.stateOf('bob')).toBe('IDLE');
    expect(await t.stateOf('ann')).toBe('WAITING');
    await t.settle();
    expect(t.lk.room(room)).toBeUndefined();
  });

  it('LiveKit rooms we never made or already ended are deleted, and rooms that are not ours are left alone', async () => {
    await using t = await openRooms(database());
    const { a } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    t.lk.dropWebhooks(Infinity);
    await admin(t).createRoom({ name: 'room_stray' });
    await admin(t).createRoom({ name: 'lobby' });
    await t.match.leave('ann', 'end');
    await t.settle();
    expect(await t.record(room)).toMatchObject({ status: 'terminated' });
    // The room comes back on LiveKit's side (a rejoin), and its webhooks are lost.
    await admin(t).createRoom({ name: room });
    expect(await reconcile(t)).toMatchObject({ ended: 2 });
    expect(t.lk.rooms().map((r) => r.name)).toEqual(['lobby']);
    expect(await t.record(room)).toMatchObject({ status: 'terminated' });
  });

  it('a room LiveKit lost while the pair was connecting is made again, and the tokens they have still work', async () => {
    await using t = await openRooms(database());
    const { a, matchId } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    t.lk.dropWebhooks(Infinity);
    await t.lk.finishRoom(room);
    expect(await reconcile(t)).toMatchObject({ repaired: 1 });
    expect(t.lk.room(room)).toMatchObject({ maxParticipants: 2, emptyTimeout: 30, departureTimeout: 7 });
    expect(JSON.parse(t.lk.room(room)!.metadata)).toMatchObject({ matchId });
    await t.lk.join(room, 'ann', a!.livekit!.token);
  });

  it('a room LiveKit lost during the call ends the match for disconnect once the grace shows nobody came back', async () => {
    await using t = await openRooms(database());
    const { a, b } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    await t.lk.join(room, 'ann', a!.livekit!.token);
    await t.lk.join(room, 'bob', b!.livekit!.token);
    t.lk.dropWebhooks(Infinity);
    await t.lk.finishRoom(room);
    expect(await reconcile(t)).toMatchObject({ repaired: 1 });
    expect(await t.rooms.janitor.tick()).toMatchObject({ departed: 1 });
    expect(['IDLE', 'WAITING']).toContain(await t.stateOf('ann'));
    expect(await t.fx.redis.hget(t.fx.store.keys.match(POOL, (await t.record(room))!.matchId), 'status')).toBe('ended');
  });

  it('a room whose match ended while its webhooks and deletion were lost is ended by the next pass', async () => {
    await using t = await openRooms(database());
    const { a } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    // The match ends behind the rooms domain's back (no fast path): the reconciler still notices.
    await t.fx.store.leave({ uid: 'ann', pool: POOL, reason: 'end' });
    expect(await reconcile(t)).toMatchObject({ ended: 1 });
    expect(t.lk.room(room)).toBeUndefined();
  });

  it('a room whose setup died after announcing it is taken as in use by the janitor', async () => {
    await using t = await openRooms(database());
    const { a } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    await t.rooms.records.setStatus(POOL, room, 'creating', ['active']);
    await t.rooms.janitor.tick();
    expect(await t.record(room)).toMatchObject({ status: 'active' });
    expect(t.lk.room(room)).toBeDefined();
  });

  it('nothing is done while LiveKit cannot be listed', async () => {
    await using t = await openRooms(database());
    await t.pair('ann', 'bob');
    t.lk.failAlways('ListRooms', 503);
    expect(await reconcile(t)).toBeNull();
    expect(t.lk.rooms()).toHaveLength(1);
  });
});
