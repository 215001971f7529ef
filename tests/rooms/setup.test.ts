import { TokenVerifier } from 'livekit-server-sdk';
import { describe, expect, it, vi } from 'vitest';
import type { OutboxRecord } from '../../server/audit/records';
import { openRooms, POOL, sharedDatabase } from './fixture';

const database = sharedDatabase();

const ICE = [{ urls: 'stun:stun.example.org:3478' }, { urls: ['turn:turn.example.org'], username: 'u', credential: 'c' }];

describe('a room per match', () => {
  it('a match gets a LiveKit room for two with the configured timeouts, recorded in Redis and in the room metadata', async () => {
    await using t = await openRooms(database());
    const { a, b, matchId } = await t.pair('ann', 'bob');
    expect(a).toMatchObject({ mode: 'livekit', matchId, partnerId: 'bob', livekit: { url: 'ws://livekit.test' } });
    expect(b).toMatchObject({ mode: 'livekit', matchId, partnerId: 'ann' });
    const room = a!.livekit!.room;
    expect(room).toMatch(/^room_[0-9a-f-]{36}$/);
    expect(b!.livekit!.room).toBe(room);

    expect(t.lk.room(room)).toMatchObject({ maxParticipants: 2, emptyTimeout: 30, departureTimeout: 7 });
    expect(JSON.parse(t.lk.room(room)!.metadata)).toMatchObject({ matchId, pool: POOL, users: ['bob', 'ann'] });
    expect(await t.record(room)).toMatchObject({ room, pool: POOL, matchId, a: 'bob', b: 'ann', status: 'active' });
    expect(await t.fx.redis.pttl(t.rooms.records.record(POOL, room))).toBeGreaterThan(0);
    expect((await t.fx.view('ann')).hash.currentRoom).toBe(room);
    expect(await t.stateOf('ann')).toBe('CONNECTING');
  });

  it('each user gets their own token, only in their own matched event, valid for two minutes and for that room only', async () => {
    await using t = await openRooms(database());
    const { a, b } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    const [ta, tb] = [a!.livekit!.token, b!.livekit!.token];
    expect(ta).not.toBe(tb);
    expect(JSON.stringify(await t.events('bob'))).not.toContain(ta);

    const claims = await new TokenVerifier(t.lk.apiKey, t.lk.apiSecret).verify(ta);
    expect(claims.sub).toBe('ann');
    expect(claims.video).toEqual({ roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true });
    expect(claims.exp! - claims.nbf!).toBe(120);

    await expect(t.lk.join(room, 'bob', ta)).rejects.toThrow(/identity/);
    await expect(t.lk.join('room_elsewhere', 'ann', ta)).rejects.toThrow(/token is for room/);
    await t.lk.join(room, 'ann', ta);
    expect(await t.stateOf('ann')).toBe('CONNECTING');
    await t.lk.join(room, 'bob', tb);
    expect(await t.stateOf('ann')).toBe('IN_CALL');
    expect(await t.stateOf('bob')).toBe('IN_CALL');
  });

  it('a match whose user left while the room was being made gets no call, and its room is ended', async () => {
    await using t = await openRooms(database());
    t.lk.delay('CreateRoom', 200, 1);
    await t.fx.store.enqueue({ uid: 'ann', pool: POOL });
    const r = await t.fx.store.enqueue({ uid: 'bob', pool: POOL });
    await t.fx.store.leave({ uid: 'ann', pool: POOL, reason: 'end', matchId: r.match!.matchId });
    await t.settle();
    expect((await t.events('bob')).some((e) => e.type === 'matched')).toBe(false);
    const [room] = t.lk.rooms();
    expect(room).toBeUndefined();
    expect(t.lk.calls('DeleteRoom')).toBe(1);
  });

  it("a room still being ended is deleted once, even when its own creation's room_started arrives after the ending began", async () => {
    await using t = await openRooms(database());
    t.lk.delay('CreateRoom', 200, 1);
    t.lk.delay('DeleteRoom', 500, 1);
    t.lk.dropWebhooks(1); // room_started, held back to arrive late
    await t.fx.store.enqueue({ uid: 'ann', pool: POOL });
    const r = await t.fx.store.enqueue({ uid: 'bob', pool: POOL });
    await t.fx.store.leave({ uid: 'ann', pool: POOL, reason: 'end', matchId: r.match!.matchId });
    await vi.waitFor(() => expect(t.lk.calls('DeleteRoom')).toBe(1), { timeout: 3000 });
    await t.lk.replayLastWebhook(); // room_started, while the deletion is still in flight
    await t.settle();
    expect(t.lk.rooms()).toEqual([]);
    expect(t.lk.calls('DeleteRoom')).toBe(1);
  });
});

describe('match and room together or not at all', () => {
  it('when the room cannot be created the match is rolled back, audited, and the two are paired again at once, with no notice about a call they never saw', async () => {
    await using t = await openRooms(database());
    t.lk.failNext('CreateRoom', 4, 503); // the first creation and its three retries
    await t.fx.store.enqueue({ uid: 'ann', pool: POOL, name: 'ann' });
    t.fx.clock.advance(1000);
    const { a, b, matchId } = await t.pair('ann', 'bob', { aWaiting: true });
    expect(t.lk.calls('CreateRoom')).toBe(5);

    // Paired again at once, they just see the new match: no notice about a call they never saw.
    const seen = async (uid: string) => (await t.events(uid)).filter((e) => e.type === 'notice' || e.type === 'matched').map((e) => e.type);
    expect(await seen('ann')).toEqual(['matched']);
    expect(a).toMatchObject({ mode: 'livekit', partnerId: 'bob' });
    expect(b).toMatchObject({ mode: 'livekit', partnerId: 'ann' });
    expect(a!.matchId).not.toBe(matchId);
    const ended = (await t.fx.outbox()).filter((o): o is Extract<OutboxRecord, { kind: 'match_ended' }> => o.kind === 'match_ended');
    expect(ended).toMatchObject([{ matchId, reason: 'rollback' }]);
    // The failed room's name is ended all the same, in case a creation that failed on our side landed on LiveKit's.
    expect(t.lk.calls('DeleteRoom')).toBe(1);
  });

  it('a LiveKit that refuses every room (while its deletions succeed) sends the pair to direct mode after the breaker threshold, not round a loop', async () => {
    await using t = await openRooms(database(), { over: { iceServers: ICE, policy: { breakerThreshold: 3, breakerHalfOpenMs: 60_000 } } });
    t.lk.failAlways('CreateRoom', 401);
    const { a, b } = await t.pair('ann', 'bob');
    expect(t.lk.calls('CreateRoom')).toBe(3);
    expect(a).toMatchObject({ mode: 'direct', partnerId: 'bob', iceServers: ICE });
    expect(b).toMatchObject({ mode: 'direct', partnerId: 'ann' });
    expect((await t.events('ann')).filter((e) => e.type === 'notice')).toHaveLength(0);
    expect(t.rooms.service.matchMode()).toEqual({ mode: 'direct', defer: true });
  });

  it('when the breaker opens the match goes ahead in direct mode, and new matches stop waiting for LiveKit until it recovers', async () => {
    await using t = await openRooms(database(), { over: { iceServers: ICE, policy: { breakerThreshold: 2, breakerHalfOpenMs: 300 } } });
    t.lk.failAlways('CreateRoom', 503);
    const first = await t.pair('ann', 'bob');
    expect(t.lk.calls('CreateRoom')).toBe(2);
    expect(first.a).toMatchObject({ mode: 'direct', role: 'polite', iceServers: ICE });
    expect(first.a).not.toHaveProperty('livekit');
    expect(first.b).toMatchObject({ mode: 'direct', role: 'impolite', iceServers: ICE });
    expect(t.rooms.service.matchMode()).toEqual({ mode: 'direct', defer: true });

    const second = await t.pair('cat', 'dan');
    expect(second.a).toMatchObject({ mode: 'direct', iceServers: ICE });
    expect(t.lk.calls('CreateRoom')).toBe(2);

    t.lk.clearFaults();
    await vi.waitFor(() => expect(t.rooms.service.matchMode()).toEqual({ mode: 'livekit', defer: true }), { timeout: 3000, interval: 50 });
    const third = await t.pair('eve', 'fay');
    expect(third.a).toMatchObject({ mode: 'livekit', iceServers: ICE, livekit: { room: expect.stringMatching(/^room_/) as unknown } });
  });

  it('without LiveKit matches are direct and announced by the pairing itself, and the webhook route is not there', async () => {
    await using t = await openRooms(database(), { livekit: false });
    expect(t.rooms.service.matchMode()).toEqual({ mode: 'direct', defer: false });
    const { a } = await t.pair('ann', 'bob');
    expect(a).toMatchObject({ mode: 'direct' });
    expect(a).not.toHaveProperty('iceServers');
    expect((await fetch(t.webhookUrl, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});
