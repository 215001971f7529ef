import { describe, expect, it } from 'vitest';
import { issueToken } from '../../server/session/token';
import { startTestApp, type TestApp } from '../support/app';
import { connectUser, matchedPair, type TestUser } from '../support/client';

/**
 * session.leave, as the browser sends it on `pagehide`:
 *   navigator.sendBeacon('/trpc/session.leave', new Blob([JSON.stringify({ token })], { type: 'application/json' }))
 * A plain POST with that body and no other header. The periodic presence sweep is slowed to a
 * minute here, so a partner_left within LEAVE_GRACE_MS can only come from the leave itself.
 */
const LEAVE_GRACE_MS = 300;
// The longest a one-shot sweep may come after its deadline on a busy two-core test machine.
const SLACK_MS = 700;
const SETTINGS = {
  RECONNECT_GRACE_MS: '20000',
  LEAVE_GRACE_MS: String(LEAVE_GRACE_MS),
  PRESENCE_SWEEP_INTERVAL_MS: '60000',
  CONNECTING_TIMEOUT_MS: '60000',
};

/** Exactly what sendBeacon sends. */
function beacon(url: string, token: string): Promise<Response> {
  return fetch(`${url}/trpc/session.leave`, { method: 'POST', body: new Blob([JSON.stringify({ token })], { type: 'application/json' }) });
}

/** Ann and Bob, in a call. */
const inCall = (url: string) => matchedPair(url, { joined: true });

const count = (u: TestUser, type: string) => u.events.filter((e) => e.event.type === type).length;

function second(one: TestApp) {
  return startTestApp({ ...SETTINGS, ...one.redisEnv }, { redisUrl: one.redisUrl, prefix: one.prefix, databaseUrl: one.databaseUrl });
}

describe('session.leave: a page that is going', () => {
  it('the beacon is accepted as sent, and when the socket then closes the partner hears partner_left within LEAVE_GRACE_MS', async () => {
    await using app = await startTestApp(SETTINGS);
    const { a, b, matchId } = await inCall(app.url);
    await using _b = b;
    const res = await beacon(app.url, a.token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ result: { data: { ok: true } } });
    const t0 = Date.now();
    await a.close();
    expect(await b.next('partner_reconnecting', (e) => e.matchId === matchId)).toMatchObject({ graceMs: LEAVE_GRACE_MS });
    expect(await b.next('partner_left', (e) => e.matchId === matchId, 5000)).toMatchObject({ reason: 'disconnect' });
    expect(Date.now() - t0).toBeLessThan(LEAVE_GRACE_MS + SLACK_MS);
    expect(await b.next('requeued')).toMatchObject({ front: true });
  });

  it('a socket that closed before the beacon arrived (at another process) ends the call LEAVE_GRACE_MS after the beacon', async () => {
    await using one = await startTestApp(SETTINGS);
    await using two = await second(one);
    const { a, b, matchId } = await inCall(one.url);
    await using _b = b;
    await a.close();
    expect(await b.next('partner_reconnecting', (e) => e.matchId === matchId)).toMatchObject({ graceMs: 20_000 });
    const t0 = Date.now();
    expect((await beacon(two.url, a.token)).status).toBe(200);
    expect(await b.next('partner_left', (e) => e.matchId === matchId, 5000)).toMatchObject({ reason: 'disconnect' });
    expect(Date.now() - t0).toBeLessThan(LEAVE_GRACE_MS + SLACK_MS);
  });

  it('beacon, close and back at once (a reload, here to another process): the partner sees one partner_reconnecting and one partner_back, and the call goes on', async () => {
    await using one = await startTestApp({ ...SETTINGS, LEAVE_GRACE_MS: '2000' });
    await using two = await second(one);
    const { a, b, matchId } = await inCall(one.url);
    await using _b = b;
    const lastId = a.events.at(-1)!.id;
    expect((await beacon(one.url, a.token)).status).toBe(200);
    await a.close();
    await b.next('partner_reconnecting', (e) => e.matchId === matchId);
    await using again = await connectUser(two.url, { token: a.token, userId: a.userId, lastEventId: lastId });
    await b.next('partner_back', (e) => e.matchId === matchId);
    // Nothing is left to run out: no grace pending, no leave remembered.
    const { store, redis } = one.server.services;
    expect(await redis.zscore(`${store.keys.poolPrefix('global')}grace`, a.userId)).toBeNull();
    expect(await redis.hget(store.keys.user('global', a.userId), 'leaving')).toBeNull();
    await again.api.chat.send.mutate({ matchId, text: 'back again', clientMessageId: 'reload-1234' });
    await b.next('chat', (e) => e.text === 'back again');
    expect((await b.api.session.me.query()).state).toBe('IN_CALL');
    expect([count(b, 'partner_reconnecting'), count(b, 'partner_back'), count(b, 'partner_left')]).toEqual([1, 1, 0]);
  });

  it('a beacon from someone not in a call changes nothing: at rest nothing is written, and a waiting user who stays connected is still matched', async () => {
    await using app = await startTestApp(SETTINGS);
    await using idle = await connectUser(app.url);
    const { store, redis } = app.server.services;
    const before = await redis.hgetall(store.keys.user('global', idle.userId));
    expect((await beacon(app.url, idle.token)).status).toBe(200);
    expect(await redis.hgetall(store.keys.user('global', idle.userId))).toEqual(before);
    expect(idle.events).toEqual([]);

    await using waiting = await connectUser(app.url);
    await using newcomer = await connectUser(app.url);
    await waiting.api.match.enqueue.mutate({});
    expect((await beacon(app.url, waiting.token)).status).toBe(200);
    expect((await newcomer.api.match.enqueue.mutate({})).match).toMatchObject({ b: waiting.userId });
    await waiting.next('matched');
  });

  it('a forged or expired token is refused UNAUTHORIZED, and nothing is written', async () => {
    await using app = await startTestApp(SETTINGS);
    const { a, b } = await inCall(app.url);
    await using _a = a;
    await using _b = b;
    const { store, redis, sessionSecret } = app.server.services;
    const before = await redis.hgetall(store.keys.user('global', a.userId));
    const expired = issueToken({ sub: a.userId, name: 'Ann', exp: Date.now() - 1000 }, sessionSecret);
    const forged = issueToken({ sub: a.userId, name: 'Ann', exp: Date.now() + 60_000 }, 'another-secret-of-at-least-32-characters');
    for (const token of [expired, forged, 'not-a-token']) {
      const res = await beacon(app.url, token);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { data: { appCode: 'UNAUTHORIZED' } } });
    }
    expect(await redis.hgetall(store.keys.user('global', a.userId))).toEqual(before);
    // So Ann's drop now gets the full grace: the partner is told 20 s.
    await a.close();
    expect(await b.next('partner_reconnecting')).toMatchObject({ graceMs: 20_000 });
  });
});
