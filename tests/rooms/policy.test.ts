import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import { ServerError } from 'livekit-server-sdk';
import { describe, expect, it, vi } from 'vitest';
import { classifyLiveKitError } from '../../server/rooms/failures';
import { loadConfig } from '../../server/config';
import { parseIceServers, roomsOptions } from '../../server/rooms/options';
import { poolFromMetadata } from '../../server/rooms/rules';
import { openRooms, POOL, sharedDatabase } from './fixture';

const database = sharedDatabase();

describe('the LiveKit policy, through the real SDK', () => {
  it('a CreateRoom slower than the call timeout is abandoned and tried again', async () => {
    await using t = await openRooms(database(), { over: { policy: { callTimeoutMs: 500 } } });
    t.lk.delay('CreateRoom', 1500, 1);
    const { a } = await t.pair('ann', 'bob');
    expect(a).toMatchObject({ mode: 'livekit' });
    expect(t.lk.calls('CreateRoom')).toBe(2);
  });

  it('a dropped connection is retried', async () => {
    await using t = await openRooms(database());
    t.lk.dropNext('CreateRoom', 2);
    const { a } = await t.pair('ann', 'bob');
    expect(a).toMatchObject({ mode: 'livekit' });
    expect(t.lk.calls('CreateRoom')).toBe(3);
  });

  it('a refusal (4xx) is not retried: the match is rolled back and the pair made again with a new room', async () => {
    await using t = await openRooms(database());
    t.lk.failNext('CreateRoom', 1, 400);
    const { a } = await t.pair('ann', 'bob');
    expect(a).toMatchObject({ mode: 'livekit', partnerId: 'bob' });
    expect(t.lk.calls('CreateRoom')).toBe(2);
    expect(await t.stateOf('ann')).toBe('CONNECTING');
  });

  it('when the bulkhead is full a match does not queue behind a slow LiveKit: it goes ahead in direct mode', async () => {
    await using t = await openRooms(database(), { over: { policy: { bulkheadLimit: 1, bulkheadQueue: 0 } } });
    t.lk.delay('CreateRoom', 300, 1);
    await t.fx.store.enqueue({ uid: 'ann', pool: POOL });
    await t.fx.store.enqueue({ uid: 'bob', pool: POOL });
    await t.fx.store.enqueue({ uid: 'cat', pool: POOL });
    await t.fx.store.enqueue({ uid: 'dan', pool: POOL });
    await t.settle();
    const modes = await Promise.all(['ann', 'cat'].map(async (u) => (await t.events(u)).find((e) => e.type === 'matched')));
    expect(modes.map((m) => m && 'mode' in m && m.mode).sort()).toEqual(['direct', 'livekit']);
  });
});

describe('the LiveKit breakers and a LiveKit that is back', () => {
  it('while open, LiveKit is asked directly every probe interval; once it answers, matches get rooms again long before the half-open delay', async () => {
    await using t = await openRooms(database(), { over: { policy: { breakerThreshold: 2, breakerHalfOpenMs: 60_000, probeIntervalMs: 100 } } });
    t.lk.failAlways('CreateRoom', 503);
    t.lk.failAlways('ListRooms', 503);
    expect((await t.pair('ann', 'bob')).a).toMatchObject({ mode: 'direct' });
    expect(t.rooms.service.matchMode().mode).toBe('direct');
    await vi.waitFor(() => expect(t.lk.calls('ListRooms')).toBeGreaterThanOrEqual(2), { timeout: 3000, interval: 50 });
    expect(t.rooms.service.matchMode().mode).toBe('direct');

    t.lk.clearFaults();
    await vi.waitFor(() => expect(t.rooms.service.matchMode()).toEqual({ mode: 'livekit', defer: true }), { timeout: 3000, interval: 50 });
    expect((await t.pair('cat', 'dan')).a).toMatchObject({ mode: 'livekit' });
  });
});

describe('a LiveKit that answers but refuses rooms', () => {
  it('keeps the creation breaker open for its whole half-open delay: a working ListRooms does not reopen the door', async () => {
    await using t = await openRooms(database(), { over: { policy: { breakerThreshold: 2, breakerHalfOpenMs: 60_000, probeIntervalMs: 50 } } });
    t.lk.failAlways('CreateRoom', 401);
    expect((await t.pair('ann', 'bob')).a).toMatchObject({ mode: 'direct' });
    const created = t.lk.calls('CreateRoom');
    await new Promise((r) => setTimeout(r, 500));
    expect(t.rooms.service.matchMode().mode).toBe('direct');
    expect((await t.pair('cat', 'dan')).a).toMatchObject({ mode: 'direct' });
    expect(t.lk.calls('CreateRoom')).toBe(created);
  });
});

describe('classifying what LiveKit calls throw', () => {
  it('retries transport errors, timeouts, throttling and server errors, but not refusals', () => {
    expect(classifyLiveKitError(new TypeError('fetch failed'))).toBe('transient');
    expect(classifyLiveKitError(new TaskCancelledError())).toBe('transient');
    expect(classifyLiveKitError(new ServerError('x', 'down', 503, 'unavailable'))).toBe('transient');
    expect(classifyLiveKitError(new ServerError('x', 'slow', 408, 'deadline_exceeded'))).toBe('transient');
    expect(classifyLiveKitError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe('transient');
    expect(classifyLiveKitError(new ServerError('x', 'bad', 400, 'bad_request'))).toBe('permanent');
    expect(classifyLiveKitError(new ServerError('x', 'slow', 429, 'resource_exhausted'))).toBe('transient');
    expect(classifyLiveKitError(new ServerError('x', 'no', 401, 'unauthenticated'))).toBe('permanent');
    expect(classifyLiveKitError(new ServerError('x', 'gone', 404, 'not_found'))).toBe('not_found');
    expect(classifyLiveKitError(new BrokenCircuitError())).toBe('unavailable');
    expect(classifyLiveKitError(new BulkheadRejectedError(1, 0))).toBe('unavailable');
  });
});

describe('rooms settings', () => {
  const env = loadConfig({ LIVEKIT_URL: 'https://lk.example.org', LIVEKIT_API_KEY: 'key', LIVEKIT_API_SECRET: 'secret' });

  it('LiveKit counts as configured only with a URL, a key and a secret, and browsers get the ws form of the URL', () => {
    expect(roomsOptions(env).livekit).toEqual({ url: 'https://lk.example.org', clientUrl: 'wss://lk.example.org', apiKey: 'key', apiSecret: 'secret' });
    expect(roomsOptions({ ...env, LIVEKIT_CLIENT_URL: 'wss://media.example.org' }).livekit?.clientUrl).toBe('wss://media.example.org');
    expect(roomsOptions({ ...env, LIVEKIT_API_SECRET: undefined }).livekit).toBeUndefined();
    expect(roomsOptions(env).leaseMs).toBe(4 * 3000); // 3 retries; 2 s calls, 1 s backoff at most
  });

  it('ICE servers are a JSON list of RTCIceServer, and a bad entry is named', () => {
    expect(parseIceServers('[{"urls":"stun:s.example.org"},{"urls":["stun:t.example.org"],"username":"u","credential":"c"}]')).toEqual([
      { urls: 'stun:s.example.org' },
      { urls: ['stun:t.example.org'], username: 'u', credential: 'c' },
    ]);
    // TURN has per-user credentials of its own (TURN_URLS, TURN_SECRET): a static one is refused.
    expect(() => parseIceServers('[{"urls":["turn:t.example.org"],"username":"u","credential":"c"}]')).toThrow(/ICE_SERVERS\[0\].*TURN_URLS/);
    expect(parseIceServers('[]')).toEqual([]);
    expect(() => parseIceServers('{"urls":"x"}')).toThrow(/JSON array/);
    expect(() => parseIceServers('[{"urls":"stun:a"},{"username":"u"}]')).toThrow(/ICE_SERVERS\[1\]/);
  });

  it('the pool of a room is read from the metadata we wrote, and anything else is ignored', () => {
    expect(poolFromMetadata('{"pool":"en-us","matchId":"m"}')).toBe('en-us');
    expect(poolFromMetadata('')).toBeNull();
    expect(poolFromMetadata('not json')).toBeNull();
    expect(poolFromMetadata('{"pool":7}')).toBeNull();
  });
});
