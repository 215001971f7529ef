import { AccessToken, ParticipantInfo_State, RoomServiceClient, ServerError } from 'livekit-server-sdk';
import { describe, expect, test, vi } from 'vitest';
import { RoomFullError, startLiveKitDouble, type LiveKitDouble } from './index';
import { signJwt } from './jwt';
import { startWebhookSink } from './webhook-sink';

const clientFor = (lk: LiveKitDouble, secret = lk.apiSecret): RoomServiceClient => new RoomServiceClient(lk.url, lk.apiKey, secret);

async function joinToken(lk: LiveKitDouble, room: string, identity: string, secret = lk.apiSecret): Promise<string> {
  const at = new AccessToken(lk.apiKey, secret, { identity, name: `${identity} name` });
  at.addGrant({ roomJoin: true, room });
  return at.toJwt();
}

async function serverError(promise: Promise<unknown>): Promise<ServerError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerError);
  return err as ServerError;
}

describe('RoomService over the real SDK', () => {
  test('a room created through the SDK is listed with its settings and disappears once deleted', async () => {
    await using lk = await startLiveKitDouble();
    const rooms = clientFor(lk);
    const created = await rooms.createRoom({
      name: 'r1',
      emptyTimeout: 60,
      departureTimeout: 5,
      maxParticipants: 2,
      metadata: 'm',
    });
    expect(created.sid).toMatch(/^RM_/);
    expect(created).toMatchObject({
      name: 'r1',
      emptyTimeout: 60,
      departureTimeout: 5,
      maxParticipants: 2,
      metadata: 'm',
    });
    expect(created.creationTime).toBeGreaterThan(0n);

    await rooms.createRoom({ name: 'r2' });
    expect((await rooms.listRooms()).map((r) => r.name).sort()).toEqual(['r1', 'r2']);
    expect((await rooms.listRooms(['r2'])).map((r) => r.name)).toEqual(['r2']);

    await rooms.deleteRoom('r1');
    expect((await rooms.listRooms()).map((r) => r.name)).toEqual(['r2']);
    expect(lk.calls('CreateRoom')).toBe(2);
  });

  test('creating an existing room returns the same room unchanged', async () => {
    await using lk = await startLiveKitDouble();
    const rooms = clientFor(lk);
    const first = await rooms.createRoom({ name: 'r', metadata: 'first' });
    const again = await rooms.createRoom({ name: 'r', metadata: 'second' });
    expect(again.sid).toBe(first.sid);
    expect(again.metadata).toBe('first');
  });

  test('rooms get LiveKit default timeouts when none are given', async () => {
    await using lk = await startLiveKitDouble();
    const room = await clientFor(lk).createRoom({ name: 'r' });
    expect(room).toMatchObject({ emptyTimeout: 300, departureTimeout: 20, maxParticipants: 0 });
  });

  test('deleting an unknown room fails with not_found', async () => {
    await using lk = await startLiveKitDouble();
    const err = await serverError(clientFor(lk).deleteRoom('ghost'));
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'requested room does not exist' });
  });

  test('participants that joined are listed and a removed one is gone', async () => {
    await using lk = await startLiveKitDouble();
    const rooms = clientFor(lk);
    await rooms.createRoom({ name: 'r' });
    await lk.join('r', 'alice');
    await lk.join('r', 'bob');
    const listed = await rooms.listParticipants('r');
    expect(listed.map((p) => p.identity).sort()).toEqual(['alice', 'bob']);
    expect(listed[0]).toMatchObject({ state: ParticipantInfo_State.ACTIVE, sid: expect.stringMatching(/^PA_/) });
    expect(listed[0]?.joinedAt).toBeGreaterThan(0n);

    await rooms.removeParticipant('r', 'alice');
    expect((await rooms.listParticipants('r')).map((p) => p.identity)).toEqual(['bob']);
    expect(lk.room('r')?.participants).toEqual(['bob']);
  });

  test('listing participants of an unknown room returns an empty list, as livekit-server does', async () => {
    await using lk = await startLiveKitDouble();
    expect(await clientFor(lk).listParticipants('ghost')).toEqual([]);
  });

  test('removing a participant who is not in the room fails with not_found', async () => {
    await using lk = await startLiveKitDouble();
    await lk.join('r', 'alice');
    const err = await serverError(clientFor(lk).removeParticipant('r', 'bob'));
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
  });

  test('room metadata can be updated', async () => {
    await using lk = await startLiveKitDouble();
    const rooms = clientFor(lk);
    await rooms.createRoom({ name: 'r' });
    expect((await rooms.updateRoomMetadata('r', 'new')).metadata).toBe('new');
    expect(lk.room('r')?.metadata).toBe('new');
  });
});

describe('authentication', () => {
  test('calls signed with the wrong secret are rejected as unauthenticated', async () => {
    await using lk = await startLiveKitDouble();
    const err = await serverError(clientFor(lk, 'not-the-secret').listRooms());
    expect(err).toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  test('an expired token is rejected even though its signature is valid', async () => {
    await using lk = await startLiveKitDouble({ clockToleranceSec: 0 });
    const now = Math.floor(Date.now() / 1000);
    const expired = signJwt({ iss: lk.apiKey, nbf: now - 600, exp: now - 1, video: { roomList: true } }, lk.apiSecret);
    const client = new RoomServiceClient(lk.url, undefined, undefined, { token: expired });
    expect(await serverError(client.listRooms())).toMatchObject({
      status: 401,
      message: expect.stringMatching(/expired/),
    });
  });

  test('a token without the grant a method needs is rejected with permissions denied', async () => {
    await using lk = await startLiveKitDouble();
    const at = new AccessToken(lk.apiKey, lk.apiSecret);
    at.addGrant({ roomList: true, roomAdmin: true, room: 'other' });
    const limited = new RoomServiceClient(lk.url, undefined, undefined, { token: await at.toJwt() });

    expect(await limited.listRooms()).toEqual([]);
    expect(await serverError(limited.createRoom({ name: 'r' }))).toMatchObject({
      status: 401,
      code: 'unauthenticated',
      message: 'permissions denied',
    });
    expect(await serverError(limited.listParticipants('r'))).toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  test('errors are Twirp JSON with content-type exactly application/json', async () => {
    await using lk = await startLiveKitDouble();
    const res = await fetch(`${lk.url}/twirp/livekit.RoomService/ListRooms`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ code: 'unauthenticated', msg: 'permissions denied' });
  });

  test('responses use protobuf field names, as livekit-server answers', async () => {
    await using lk = await startLiveKitDouble();
    const at = new AccessToken(lk.apiKey, lk.apiSecret);
    at.addGrant({ roomCreate: true });
    const res = await fetch(`${lk.url}/twirp/livekit.RoomService/CreateRoom`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json;charset=UTF-8', Authorization: `Bearer ${await at.toJwt()}` },
      body: JSON.stringify({ name: 'r', emptyTimeout: 10 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: 'r',
      empty_timeout: 10,
      creation_time: expect.stringMatching(/^\d+$/),
    });
  });
});

describe('failure injection', () => {
  test('an injected failure surfaces as an SDK error with the Twirp code, then calls succeed again', async () => {
    await using lk = await startLiveKitDouble();
    const rooms = clientFor(lk);
    lk.failNext('CreateRoom', 1, 503);
    expect(await serverError(rooms.createRoom({ name: 'r' }))).toMatchObject({ status: 503, code: 'unavailable' });
    await expect(rooms.createRoom({ name: 'r' })).resolves.toMatchObject({ name: 'r' });
    expect(lk.calls('CreateRoom')).toBe(2);
  });

  test('failing every method affects all calls until the faults are cleared', async () => {
    await using lk = await startLiveKitDouble();
    const rooms = clientFor(lk);
    lk.failAlways('*', 500);
    expect(await serverError(rooms.listRooms())).toMatchObject({ status: 500, code: 'internal' });
    expect(await serverError(rooms.listRooms())).toMatchObject({ status: 500 });
    lk.clearFaults();
    await expect(rooms.listRooms()).resolves.toEqual([]);
    expect(lk.calls('ListRooms')).toBe(3);
  });

  test('a dropped connection makes the SDK call reject with a transport error', async () => {
    await using lk = await startLiveKitDouble();
    lk.dropNext('ListRooms');
    await expect(clientFor(lk).listRooms()).rejects.toThrow(TypeError);
    expect(lk.calls('ListRooms')).toBe(1);
  });

  test('a delay longer than the client timeout makes the SDK call time out', async () => {
    await using lk = await startLiveKitDouble();
    lk.delay('ListRooms', 5_000, 1);
    const impatient = new RoomServiceClient(lk.url, lk.apiKey, lk.apiSecret, { requestTimeout: 0.05 });
    await expect(impatient.listRooms()).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(impatient.listRooms()).resolves.toEqual([]);
  });
});

describe('simulated participants', () => {
  test('a participant with a valid join token joins under the token name', async () => {
    await using lk = await startLiveKitDouble();
    const joined = await lk.join('r', 'alice', await joinToken(lk, 'r', 'alice'));
    expect(joined).toMatchObject({ identity: 'alice', name: 'alice name' });
    expect(joined.sid).toMatch(/^PA_/);
  });

  test('join tokens for another room, another identity or signed with another secret are refused', async () => {
    await using lk = await startLiveKitDouble();
    await expect(lk.join('r', 'alice', await joinToken(lk, 'other', 'alice'))).rejects.toThrow(/room other/);
    await expect(lk.join('r', 'alice', await joinToken(lk, 'r', 'bob'))).rejects.toThrow(/identity bob/);
    await expect(lk.join('r', 'alice', await joinToken(lk, 'r', 'alice', 'wrong'))).rejects.toThrow(/signature/);
    const noJoin = new AccessToken(lk.apiKey, lk.apiSecret, { identity: 'alice' });
    noJoin.addGrant({ roomAdmin: true, room: 'r' });
    await expect(lk.join('r', 'alice', await noJoin.toJwt())).rejects.toThrow(/roomJoin/);
  });

  test('a full room refuses one more participant', async () => {
    await using lk = await startLiveKitDouble();
    await clientFor(lk).createRoom({ name: 'pair', maxParticipants: 2 });
    await lk.join('pair', 'a');
    await lk.join('pair', 'b');
    await expect(lk.join('pair', 'c')).rejects.toBeInstanceOf(RoomFullError);
  });
});

describe('webhooks', () => {
  test('the lifecycle of a call is delivered as signed webhooks the SDK receiver accepts', async () => {
    await using lk = await startLiveKitDouble();
    await using sink = await startWebhookSink(lk.apiKey, lk.apiSecret);
    lk.setWebhookUrl(sink.url);
    await clientFor(lk).createRoom({ name: 'r' });
    await lk.join('r', 'alice');
    await lk.join('r', 'bob');
    await lk.abort('r', 'bob');
    await clientFor(lk).removeParticipant('r', 'alice');
    await clientFor(lk).deleteRoom('r');
    await lk.flushWebhooks();

    expect(sink.rejected).toEqual([]);
    expect(sink.accepted.map((e) => [e.event, e.participant?.identity])).toEqual([
      ['room_started', undefined],
      ['participant_joined', 'alice'],
      ['participant_joined', 'bob'],
      ['participant_connection_aborted', 'bob'],
      ['participant_left', 'alice'],
      ['room_finished', undefined],
    ]);
    expect(sink.contentTypes.every((t) => t === 'application/webhook+json')).toBe(true);
    const joined = sink.accepted[1];
    expect(joined?.id).toMatch(/^EV_/);
    expect(joined?.createdAt).toBeGreaterThan(0n);
    expect(joined?.room?.name).toBe('r');
    expect(joined?.room?.numParticipants).toBe(1);
    expect(lk.sentWebhooks.map((w) => w.status)).toEqual([200, 200, 200, 200, 200, 200]);
  });

  test('a forged or tampered webhook is rejected by the SDK receiver and its status is recorded', async () => {
    await using lk = await startLiveKitDouble();
    await using sink = await startWebhookSink(lk.apiKey, lk.apiSecret);
    lk.setWebhookUrl(sink.url);
    await lk.join('r', 'alice');
    const event = lk.eventFor('participant_left', 'r', 'alice');
    expect((await lk.sendForgedWebhook(event, 'wrong-secret')).status).toBe(401);
    expect((await lk.sendForgedWebhook(event, 'tampered-body')).status).toBe(401);
    expect((await lk.sendForgedWebhook(event, 'unsigned')).status).toBe(401);
    expect(sink.rejected.map((r) => r.error)).toEqual([
      expect.stringMatching(/signature/),
      expect.stringMatching(/sha256/),
      expect.stringMatching(/authorization header is empty/),
    ]);
    expect((await lk.sendWebhook(event)).status).toBe(200);
  });

  test('a dropped webhook never reaches the app and can be replayed later with the same id', async () => {
    await using lk = await startLiveKitDouble();
    await using sink = await startWebhookSink(lk.apiKey, lk.apiSecret);
    lk.setWebhookUrl(sink.url);
    await lk.join('r', 'alice');
    lk.dropWebhooks(1);
    await lk.leave('r', 'alice');
    expect(sink.accepted.map((e) => e.event)).toEqual(['room_started', 'participant_joined']);
    expect(lk.sentWebhooks.at(-1)).toMatchObject({ event: 'participant_left', status: 'dropped' });

    const replay = await lk.replayLastWebhook();
    expect(replay).toMatchObject({ event: 'participant_left', status: 200, replay: true });
    expect(sink.accepted.at(-1)?.id).toBe(lk.sentWebhooks.at(-2)?.id);
  });

  test('an empty room finishes after its departure timeout when timeouts are enabled', async () => {
    await using lk = await startLiveKitDouble({ timeoutScaleMs: 10 });
    await using sink = await startWebhookSink(lk.apiKey, lk.apiSecret);
    lk.setWebhookUrl(sink.url);
    await clientFor(lk).createRoom({ name: 'r', departureTimeout: 2 });
    await lk.join('r', 'alice');
    await lk.leave('r', 'alice');
    await vi.waitFor(() => expect(sink.accepted.at(-1)?.event).toBe('room_finished'));
    expect(lk.room('r')).toBeUndefined();
  });

  test('idle rooms can be expired on demand without timers', async () => {
    await using lk = await startLiveKitDouble();
    await clientFor(lk).createRoom({ name: 'empty' });
    await lk.join('busy', 'alice');
    expect(await lk.expireIdleRooms()).toEqual(['empty']);
    expect(lk.rooms().map((r) => r.name)).toEqual(['busy']);
  });
});

test('the double stops answering once disposed', async () => {
  let url = '';
  {
    await using lk = await startLiveKitDouble();
    url = lk.url;
  }
  await expect(fetch(`${url}/twirp/livekit.RoomService/ListRooms`, { method: 'POST' })).rejects.toThrow(TypeError);
});
