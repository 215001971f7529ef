import { describe, expect, it } from 'vitest';
import { deadLetters } from '../../server/audit/schema';
import { REFUSED_SAMPLE_MS } from '../../server/rooms/webhook-handler';
import { openRooms, POOL, sharedDatabase, type RoomsFixture } from './fixture';

const database = sharedDatabase();

async function inCall(t: RoomsFixture) {
  const { a, b, matchId } = await t.pair('ann', 'bob');
  const room = a!.livekit!.room;
  await t.lk.join(room, 'ann', a!.livekit!.token);
  await t.lk.join(room, 'bob', b!.livekit!.token);
  return { room, matchId, tokens: { ann: a!.livekit!.token, bob: b!.livekit!.token } };
}

const departureOf = (t: RoomsFixture, room: string, uid: string) => t.fx.redis.zscore(t.rooms.records.departures(POOL), `${room}|${uid}`);

describe('LiveKit webhooks', () => {
  it('forged, tampered and unsigned webhooks are refused with 401, change nothing, and the sampled ones are audited as invalid', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    const left = t.lk.eventFor('participant_left', room, 'ann');
    for (const mode of ['wrong-secret', 'tampered-body', 'unsigned'] as const) {
      t.fx.clock.advance(REFUSED_SAMPLE_MS); // each one is the sample of its interval
      expect((await t.lk.sendForgedWebhook(left, mode)).status).toBe(401);
    }
    expect(await departureOf(t, room, 'ann')).toBeNull();
    expect(await t.stateOf('ann')).toBe('IN_CALL');
    const rows = (await t.webhookRows(room)).filter((r) => !r.valid);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ event: 'participant_left', participant: 'ann', valid: false, payload: { error: expect.any(String) as unknown } });
  });

  it('a webhook is answered only once its audit record is in the outbox (Postgres is not asked before the answer)', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    const left = t.lk.eventFor('participant_left', room, 'ann');
    expect((await t.lk.sendForgedWebhook(left, 'unsigned')).status).toBe(401);
    const entries = await t.fx.redis.xrange(t.fx.store.keys.outbox(POOL), '-', '+');
    const audited = entries.map(([, fields]) => JSON.parse(fields[1]!) as { kind: string; valid?: boolean; room?: string }).filter((r) => r.kind === 'webhook');
    expect(audited).toContainEqual(expect.objectContaining({ kind: 'webhook', valid: false, room }));
    // The drain then writes it to webhook_events, once.
    expect((await t.webhookRows(room)).filter((r) => !r.valid)).toHaveLength(1);
  });

  it('a malformed request is refused with 401 and audited too', async () => {
    await using t = await openRooms(database());
    const res = await fetch(t.webhookUrl, {
      method: 'POST',
      headers: { authorization: 'not-a-jwt', 'content-type': 'application/webhook+json' },
      body: 'not json',
    });
    expect(res.status).toBe(401);
    const rows = await t.webhookRows(null);
    expect(rows.some((r) => r.valid === false && r.event === 'unknown' && JSON.stringify(r.payload).includes('not json'))).toBe(true);
  });

  it('genuine webhooks are audited once each, by event id', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    const sent = t.lk.sentWebhooks.filter((w) => w.payload.room?.name === room);
    const rows = await t.webhookRows(room);
    expect(rows.map((r) => r.eventId).sort()).toEqual(sent.map((w) => w.id).sort());
    expect(rows.every((r) => r.valid)).toBe(true);
  });

  it('a genuine webhook with NUL in its strings is handled, and stored with U+FFFD in its place', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    const left = t.lk.eventFor('participant_left', room, 'ann');
    const sent = await t.lk.sendWebhook({ ...left, participant: { ...left.participant, name: 'Ann\u0000', metadata: '{"note":"\u0000"}' } });
    expect(sent.status).toBe(200);
    expect(sent.body).toContain('Ann\\u0000'); // signed as sent: the JSON escape is in the body
    expect(await departureOf(t, room, 'ann')).not.toBeNull();

    const row = (await t.webhookRows(room)).find((r) => r.eventId === sent.id);
    expect(row).toMatchObject({ valid: true, event: 'participant_left', participant: 'ann' });
    expect(row!.payload).toMatchObject({ participant: { name: 'Ann\uFFFD', metadata: '{"note":"\uFFFD"}' } });
    expect(await t.database.db.select().from(deadLetters)).toEqual([]);
  });

  it('a replayed or duplicated webhook is answered 200 and handled once', async () => {
    await using t = await openRooms(database());
    const { room, tokens } = await inCall(t);
    await t.lk.leave(room, 'ann');
    const left = t.lk.sentWebhooks.at(-1)!;
    expect(left).toMatchObject({ event: 'participant_left', status: 200 });
    expect(await departureOf(t, room, 'ann')).not.toBeNull();
    await t.lk.join(room, 'ann', tokens.ann);
    expect(await departureOf(t, room, 'ann')).toBeNull();

    // The same event again: freshly signed (a redelivery) and byte for byte (a replay).
    expect((await t.lk.sendWebhook(left.payload)).status).toBe(200);
    expect((await t.lk.replayLastWebhook()).status).toBe(200);
    expect(await departureOf(t, room, 'ann')).toBeNull();
    expect((await t.webhookRows(room)).filter((r) => r.eventId === left.id)).toHaveLength(1);
  });

  it('a webhook that could not be handled is answered 500, and handled when it comes again', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    const handle = t.rooms.events.handle.bind(t.rooms.events);
    let fail = true;
    t.rooms.events.handle = async (e) => {
      if (fail) throw new Error('Redis is down');
      return handle(e);
    };
    await t.lk.abort(room, 'bob');
    const aborted = t.lk.sentWebhooks.at(-1)!;
    expect(aborted.status).toBe(500);
    expect(await departureOf(t, room, 'bob')).toBeNull();
    fail = false;
    expect((await t.lk.sendWebhook(aborted.payload)).status).toBe(200);
    expect(await departureOf(t, room, 'bob')).not.toBeNull();
  });

  it('a stranger who gets into a room is removed', async () => {
    await using t = await openRooms(database());
    const { a } = await t.pair('ann', 'bob');
    const room = a!.livekit!.room;
    await t.lk.join(room, 'mallory');
    await t.settle();
    expect(t.lk.room(room)?.participants).toEqual([]);
  });

  it('events of rooms that are not ours are accepted and ignored', async () => {
    await using t = await openRooms(database());
    await t.lk.join('someone-elses-room', 'zed');
    expect(t.lk.sentWebhooks.map((w) => w.status)).toEqual([200, 200]);
    expect(t.lk.room('someone-elses-room')).toBeDefined();
  });
});

describe('participants who leave the call', () => {
  it('a participant whose connection dropped and who does not come back within the grace ends the match for disconnect', async () => {
    await using t = await openRooms(database());
    const { room, matchId } = await inCall(t);
    await t.lk.abort(room, 'ann');
    expect(Number(await departureOf(t, room, 'ann'))).toBe(t.fx.clock.now() + 5000);
    t.fx.clock.advance(4999);
    expect(await t.rooms.janitor.tick()).toMatchObject({ departed: 0 });
    t.fx.clock.advance(1);
    expect(await t.rooms.janitor.tick()).toMatchObject({ departed: 1 });
    expect(await t.stateOf('ann')).toBe('IDLE');
    expect(await t.stateOf('bob')).toBe('WAITING');
    expect((await t.events('bob')).find((e) => e.type === 'partner_left')).toMatchObject({ matchId, reason: 'disconnect' });
    await t.settle();
    expect(t.lk.room(room)).toBeUndefined();
    expect(await t.record(room)).toMatchObject({ status: 'terminated', endReason: 'disconnect' });
  });

  it('a participant who comes back within the grace keeps the call', async () => {
    await using t = await openRooms(database());
    const { room, tokens } = await inCall(t);
    await t.lk.leave(room, 'bob');
    await t.lk.join(room, 'bob', tokens.bob);
    t.fx.clock.advance(10_000);
    expect(await t.rooms.janitor.tick()).toMatchObject({ departed: 0 });
    expect(await t.stateOf('bob')).toBe('IN_CALL');
    expect(t.lk.room(room)?.participants.sort()).toEqual(['ann', 'bob']);
  });

  it('a departure is not ended while LiveKit cannot be asked, and is checked again later', async () => {
    await using t = await openRooms(database());
    const { room } = await inCall(t);
    await t.lk.abort(room, 'ann');
    t.lk.failAlways('ListParticipants', 503);
    t.fx.clock.advance(5000);
    expect(await t.rooms.janitor.tick()).toMatchObject({ departed: 0 });
    expect(await t.stateOf('bob')).toBe('IN_CALL');
    t.lk.clearFaults();
    t.fx.clock.advance(10_000); // the claim's lease
    expect(await t.rooms.janitor.tick()).toMatchObject({ departed: 1 });
    expect(await t.stateOf('bob')).toBe('WAITING');
  });
});
