import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config';
import { roomsOptions } from '../../server/rooms/options';
import { turnServerFor } from '../../server/rooms/turn';
import { allocate } from '../support/turn-client';
import { startTurnServer } from '../support/turn-server';

type Credential = { username: string; credential: string };

const SECRET = 'a-turn-secret-of-some-length';

describe('per-user TURN credentials (coturn use-auth-secret)', () => {
  it("a user's username is <now + TURN_TTL_S>:<userId> and the password is base64(HMAC-SHA1(secret, username))", () => {
    const cfg = loadConfig({ TURN_URLS: 'turn:turn.example.org:3478,turn:turn.example.org:3478?transport=tcp', TURN_SECRET: SECRET, TURN_TTL_S: '600' });
    const turn = roomsOptions(cfg).turn!;
    const now = 1_800_000_000_500;
    const s = turnServerFor(turn, 'user-1', now);
    expect(s.urls).toEqual(['turn:turn.example.org:3478', 'turn:turn.example.org:3478?transport=tcp']);
    expect(s.username).toBe(`${1_800_000_000 + 600}:user-1`);
    expect(s.credential).toBe(createHmac('sha1', SECRET).update(s.username!).digest('base64'));
    expect(turnServerFor(turn, 'user-2', now).credential).not.toBe(s.credential);
  });

  it('TURN_TTL_S defaults to an hour, and TURN_URLS without TURN_SECRET (or the reverse) stops start-up', () => {
    expect(roomsOptions(loadConfig({ TURN_URLS: 'turn:t:3478', TURN_SECRET: SECRET })).turn?.ttlS).toBe(3600);
    expect(roomsOptions(loadConfig({})).turn).toBeUndefined();
    expect(() => roomsOptions(loadConfig({ TURN_URLS: 'turn:t:3478' }))).toThrow(/TURN_URLS and TURN_SECRET/);
    expect(() => roomsOptions(loadConfig({ TURN_SECRET: SECRET }))).toThrow(/TURN_URLS and TURN_SECRET/);
    expect(() => loadConfig({ TURN_URLS: 'stun:t:3478' })).toThrow(/TURN_URLS/);
  });

  it('a TURN server with a static credential in ICE_SERVERS is refused: its credential would be the same for everyone', () => {
    expect(() => loadConfig({ ICE_SERVERS: '[{"urls":"turn:t:3478","username":"u","credential":"c"}]' })).toThrow(/ICE_SERVERS\[0\].*TURN_URLS/);
    expect(() => loadConfig({ ICE_SERVERS: '[{"urls":["stun:t:3478","turns:t:5349"]}]' })).toThrow(/TURN_URLS/);
    expect(loadConfig({ ICE_SERVERS: '[{"urls":"stun:t:3478"}]' }).ICE_SERVERS).toEqual([{ urls: 'stun:t:3478' }]);
  });
});

describe('coturn and the credentials (a real turnserver on loopback)', () => {
  it('coturn takes a fresh credential and refuses an expired one, or one signed with another secret', async () => {
    await using server = await startTurnServer();
    const turn = { urls: [server.url], secret: server.secret, ttlS: 600 };
    expect(await allocate(server.port, turnServerFor(turn, 'fresh-user', Date.now()) as Credential)).toEqual({ ok: true });
    const expired = turnServerFor(turn, 'late-user', Date.now() - 601_000) as Credential;
    expect(await allocate(server.port, expired)).toEqual({ ok: false, code: 401 });
    const forged = turnServerFor({ ...turn, secret: 'another-secret-0123456789' }, 'forger', Date.now()) as Credential;
    expect(await allocate(server.port, forged)).toEqual({ ok: false, code: 401 });
  });
});
