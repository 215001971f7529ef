import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { connectUser, httpClient, type TestUser, ADULT } from '../support/client';

// Shrunk from the defaults so the behaviour shows in well under a second.
const FAST = {
  RECONNECT_GRACE_MS: '600',
  HEARTBEAT_INTERVAL_MS: '200',
  HEARTBEAT_TIMEOUT_MS: '600',
  PRESENCE_SWEEP_INTERVAL_MS: '50',
};

async function matchedPair(url: string) {
  const a = await connectUser(url, { displayName: 'Ann' });
  const b = await connectUser(url, { displayName: 'Bob' });
  await a.api.match.enqueue.mutate({});
  await b.api.match.enqueue.mutate({});
  const m = await a.next('matched');
  await b.next('matched');
  return { a, b, matchId: m.matchId };
}

async function stateOf(u: TestUser) {
  return (await u.api.session.me.query()).state;
}

describe('presence: disconnect detection and reconnect grace', () => {
  it('a closed socket tells the partner at once, and after the grace the partner is re-queued at the front', async () => {
    await using app = await startTestApp(FAST);
    const { a, b, matchId } = await matchedPair(app.url);
    await using _b = b;
    const t0 = Date.now();
    await a.close();
    await b.next('partner_reconnecting', (e) => e.matchId === matchId);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(await b.next('partner_left', (e) => e.matchId === matchId, 5000)).toMatchObject({ reason: 'disconnect' });
    expect(await b.next('requeued')).toMatchObject({ front: true });
    expect(await stateOf(b)).toBe('WAITING');
  });

  it('reconnecting within the grace, to another server process, resumes the same match', async () => {
    await using one = await startTestApp({ ...FAST, RECONNECT_GRACE_MS: '3000' });
    await using two = await startTestApp(
      { ...FAST, ...one.redisEnv, RECONNECT_GRACE_MS: '3000' },
      { redisUrl: one.redisUrl, prefix: one.prefix, databaseUrl: one.databaseUrl },
    );
    const { a, b, matchId } = await matchedPair(one.url);
    await using _b = b;
    const lastId = a.events.at(-1)!.id;
    await a.close();
    await b.next('partner_reconnecting');
    await using again = await connectUser(two.url, { token: a.token, userId: a.userId, lastEventId: lastId });
    await b.next('partner_back', (e) => e.matchId === matchId);
    expect((await again.api.session.me.query()).matchId).toBe(matchId);
    await again.api.chat.send.mutate({ matchId, text: 'still here', clientMessageId: 'resume-1234' });
    await b.next('chat', (e) => e.text === 'still here');
    expect(b.events.some((e) => e.event.type === 'partner_left')).toBe(false);
  });

  it('a server process that dies without closing its sockets has its users recovered by the survivor', async () => {
    const survivor = await startTestApp(FAST);
    await using _s = survivor;
    const doomed = await startTestApp(
      { ...FAST, ...survivor.redisEnv },
      { redisUrl: survivor.redisUrl, prefix: survivor.prefix, databaseUrl: survivor.databaseUrl },
    );
    const b = await connectUser(survivor.url, { displayName: 'Bob' });
    await using _b = b;
    const a = await connectUser(doomed.url, { displayName: 'Ann' });
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    const m = await b.next('matched');
    // Like SIGKILL: the process stops refreshing presence and never reports the drop.
    await doomed.server.services.presence.stop();
    await doomed.server.close();
    await a.close().catch(() => {});
    await b.next('partner_reconnecting', (e) => e.matchId === m.matchId, 5000);
    expect(await b.next('partner_left', (e) => e.matchId === m.matchId, 5000)).toMatchObject({ reason: 'disconnect' });
  });

  it('a waiting user who drops keeps their place during the grace and loses it after', async () => {
    await using app = await startTestApp(FAST);
    const a = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await a.next('queued');
    await a.close();
    const admin = app.server.services.store;
    expect((await admin.getUser(a.userId)).state).toBe('WAITING');
    await expect.poll(async () => (await admin.getUser(a.userId)).state, { timeout: 5000 }).toBe('IDLE');
  });

  it('an event stream over HTTP (SSE) is presence: its user stays while it is open, and drops the moment it ends', async () => {
    await using app = await startTestApp(FAST);
    const { token, userId } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const api = httpClient(app.url, token);
    const ac = new AbortController();
    const res = await fetch(`${app.url}/trpc/match.events?input=${encodeURIComponent('{}')}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the stream is open
    await api.match.enqueue.mutate({});
    const store = app.server.services.store;
    const user = () => app.server.services.redis.hgetall(store.keys.user('global', userId));

    // Several heartbeat timeouts without a heartbeat: the open stream keeps the user present.
    await new Promise((r) => setTimeout(r, 3 * Number(FAST.HEARTBEAT_TIMEOUT_MS)));
    expect(await user()).toMatchObject({ state: 'WAITING' });
    expect(await user()).not.toHaveProperty('droppedAt');

    ac.abort();
    await reader.cancel().catch(() => undefined);
    await expect.poll(async () => (await user()).droppedAt, { timeout: 2000 }).toBeDefined();
    await expect.poll(async () => (await user()).state, { timeout: 5000 }).toBe('IDLE');
  });

  it('a client with neither a socket nor a stream is present only while it heartbeats', async () => {
    await using app = await startTestApp(FAST);
    const { token, userId } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const api = httpClient(app.url, token);
    await api.match.enqueue.mutate({});
    const store = app.server.services.store;
    const user = () => app.server.services.redis.hgetall(store.keys.user('global', userId));

    const beating = setInterval(() => void api.presence.heartbeat.mutate().catch(() => undefined), Number(FAST.HEARTBEAT_INTERVAL_MS));
    try {
      await new Promise((r) => setTimeout(r, 3 * Number(FAST.HEARTBEAT_TIMEOUT_MS)));
      expect(await user()).toMatchObject({ state: 'WAITING' });
      expect(await user()).not.toHaveProperty('droppedAt');
    } finally {
      clearInterval(beating);
    }
    // Silent since its last heartbeat: dropped, then its grace (counted from then) runs out.
    await expect.poll(async () => (await user()).state, { timeout: 5000 }).toBe('IDLE');
  });

  it('a heartbeat answers with the interval to use', async () => {
    await using app = await startTestApp(FAST);
    await using a = await connectUser(app.url);
    const r = await a.api.presence.heartbeat.mutate();
    expect(r.intervalMs).toBe(200);
  });
});

describe('fused disconnect signals', () => {
  it('several signals about one drop (socket close, stale heartbeat, an explicit disconnect) act once', async () => {
    await using app = await startTestApp({ ...FAST, RECONNECT_GRACE_MS: '200' });
    const { a, b, matchId } = await matchedPair(app.url);
    await using _b = b;
    const { store, presence, redis } = app.server.services;
    // A's last-seen is stale, as if their heartbeats had stopped long ago.
    await redis.zadd(`${store.keys.poolPrefix('global')}seen`, Date.now() - 60_000, a.userId);
    await Promise.all([
      a.close(),
      presence.signal(a.userId, 'dropped'),
      store.leave({ uid: a.userId, pool: 'global', reason: 'disconnect', matchId }),
      store.graces('global', { timeoutMs: 600, graceMs: 200, leaveGraceMs: 200 }),
    ]);
    await b.next('partner_left', (e) => e.matchId === matchId);
    await presence.sweep();
    // B's events are ordered: once B is matched with a newcomer, any duplicate would already be here.
    await using cy = await connectUser(app.url);
    await cy.api.match.enqueue.mutate({});
    await b.next('matched', (e) => e.partnerId === cy.userId);
    expect(b.events.filter((e) => e.event.type === 'partner_left')).toHaveLength(1);
    expect((await store.getUser(a.userId)).counters.totalDisconnects).toBe(1);
  });
});
