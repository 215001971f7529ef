/**
 * Everything a client can make grow has a bound from config, and a refusal is a typed error with
 * a sentence for a person that changes nothing. Each test replays one attack a hostile client
 * made on the landed main (issue 14) against a real server, with the bound shrunk by config.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { USER_MESSAGES } from '../../server/resilience/messages';
import { rateKeyPrefix } from '../../server/safety/rate-limits';
import { startTestApp } from '../support/app';
import { connectUser, httpClient, ADULT } from '../support/client';
import { openRaw, subscribe } from './raw-ws';

async function keysUnder(redisUrl: string, prefix: string): Promise<string[]> {
  const r = new Redis(redisUrl);
  try {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      // Rate-limit counters count every attempt, refused or not (bounded, expiring): not state.
      out.push(...keys.filter((k) => !k.startsWith(rateKeyPrefix(prefix))));
    } while (cursor !== '0');
    return out.sort();
  } finally {
    r.disconnect();
  }
}

async function session(url: string) {
  return httpClient(url).session.create.mutate({ displayName: 'Mallory', consent: ADULT });
}

describe('bounds on what one client can make grow', () => {
  it('a language or region outside the configured lists is refused with UNSUPPORTED_POOL, and no pool is made for it', async () => {
    await using app = await startTestApp({ POOL_LANGUAGES: 'en,de', POOL_REGIONS: 'eu' });
    await using mallory = await connectUser(app.url);
    const before = await keysUnder(app.redisUrl, app.prefix);
    for (const input of [{ language: 'xx' }, { region: 'zz' }, { language: 'en', region: 'na' }]) {
      const err = await mallory.api.match.enqueue.mutate(input).catch((e: { data?: { appCode?: string; httpStatus?: number }; message: string }) => e);
      expect(err).toMatchObject({ data: { appCode: 'UNSUPPORTED_POOL', httpStatus: 400 }, message: USER_MESSAGES.UNSUPPORTED_POOL });
    }
    expect(await app.server.services.store.pools()).toEqual(['global']);
    expect(await keysUnder(app.redisUrl, app.prefix)).toEqual(before);
    // A listed one works.
    await expect(mallory.api.match.enqueue.mutate({ language: 'de', region: 'eu' })).resolves.toMatchObject({ state: 'WAITING' });
  });

  it('one socket holds at most WS_MAX_SUBSCRIPTIONS subscriptions: the next is refused, and an event reaches only those', async () => {
    await using app = await startTestApp({ WS_MAX_SUBSCRIPTIONS: '3' });
    const { token } = await session(app.url);
    await using sock = await openRaw(app.wsUrl, token);
    for (let id = 1; id <= 3; id++) {
      sock.send(subscribe(id));
      await sock.reply((r) => r.id === id && r.result?.type === 'started');
    }
    sock.send(subscribe(4));
    const refused = await sock.reply((r) => r.id === 4);
    expect(refused.error?.data).toMatchObject({ appCode: 'TOO_MANY_SUBSCRIPTIONS', httpStatus: 400 });
    expect(refused.error?.message).toBe(USER_MESSAGES.TOO_MANY_SUBSCRIPTIONS);
    // One enqueue: a `queued`/`state` event per live subscription, none for the refused one.
    sock.send({ id: 10, method: 'mutation', params: { path: 'match.enqueue', input: {} } });
    await sock.reply((r) => r.id === 10 && r.result?.type === 'data');
    await sock.reply((r) => r.id === 3 && r.result?.type === 'data');
    expect(sock.replies.filter((r) => r.id === 4)).toHaveLength(1);
    // A stopped subscription frees its place.
    sock.send({ id: 1, method: 'subscription.stop' });
    await sock.reply((r) => r.id === 1 && r.result?.type === 'stopped');
    sock.send(subscribe(5));
    await sock.reply((r) => r.id === 5 && r.result?.type === 'started');
  });

  it('a WebSocket message with more calls than TRPC_MAX_BATCH is refused whole with BATCH_TOO_LARGE, and none of them runs', async () => {
    await using app = await startTestApp({ TRPC_MAX_BATCH: '4' });
    const { token } = await session(app.url);
    await using sock = await openRaw(app.wsUrl, token);
    const calls = Array.from({ length: 5 }, (_, i) => ({ id: 100 + i, method: 'mutation', params: { path: 'match.enqueue', input: {} } }));
    sock.send(calls);
    const refused = await sock.reply((r) => r.id === null);
    expect(refused.error?.data).toMatchObject({ appCode: 'BATCH_TOO_LARGE', httpStatus: 400 });
    expect(sock.replies.some((r) => typeof r.id === 'number')).toBe(false);
    sock.send(calls.slice(0, 4).map((c, i) => ({ ...c, method: 'query', params: { path: 'session.me' }, id: 200 + i })));
    await sock.reply((r) => r.id === 203 && r.result?.type === 'data');
  });

  it('over HTTP, a batch over TRPC_MAX_BATCH is BATCH_TOO_LARGE and a body over HTTP_MAX_BODY_BYTES is 413 PAYLOAD_TOO_LARGE', async () => {
    await using app = await startTestApp({ TRPC_MAX_BATCH: '4', HTTP_MAX_BODY_BYTES: '4096' });
    const batch = await fetch(`${app.url}/trpc/${Array(5).fill('session.me').join(',')}?batch=1&input={}`);
    expect(batch.status).toBe(400);
    expect(JSON.stringify(await batch.json())).toContain('"appCode":"BATCH_TOO_LARGE"');
    const big = await fetch(`${app.url}/trpc/session.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ displayName: 'x'.repeat(5000) }),
    });
    expect(big.status).toBe(413);
    expect(JSON.stringify(await big.json())).toContain('"appCode":"PAYLOAD_TOO_LARGE"');
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });

  it('sockets from one address beyond WS_MAX_PER_IP are refused at the upgrade with 429, and a closed one frees its place', async () => {
    await using app = await startTestApp({ WS_MAX_PER_IP: '3' });
    const { token } = await session(app.url);
    const open = [await openRaw(app.wsUrl, token), await openRaw(app.wsUrl, token), await openRaw(app.wsUrl, token)];
    await expect(openRaw(app.wsUrl, token)).rejects.toThrow('upgrade refused: 429');
    await open[0]![Symbol.asyncDispose]();
    // The server counts the close when it sees it, a moment after the client does.
    const again = await vi.waitFor(() => openRaw(app.wsUrl, token), { timeout: 2000, interval: 20 });
    for (const s of [again, ...open.slice(1)]) await s[Symbol.asyncDispose]();
  });

  it('a user beyond WS_MAX_PER_USER sockets is refused with TOO_MANY_CONNECTIONS and the socket closed', async () => {
    await using app = await startTestApp({ WS_MAX_PER_USER: '2' });
    const { token } = await session(app.url);
    await using a = await openRaw(app.wsUrl, token);
    await using b = await openRaw(app.wsUrl, token);
    for (const s of [a, b]) {
      s.send({ id: 1, method: 'query', params: { path: 'session.me' } });
      await s.reply((r) => r.id === 1);
    }
    await using c = await openRaw(app.wsUrl, token);
    const refused = await c.reply((r) => r.id === null);
    expect(refused.error?.data).toMatchObject({ appCode: 'TOO_MANY_CONNECTIONS' });
    expect(refused.error?.message).toBe(USER_MESSAGES.TOO_MANY_CONNECTIONS);
    await c.closed;
  });

  it('a socket that does not authenticate within WS_AUTH_TIMEOUT_MS is closed; one that did stays', async () => {
    await using app = await startTestApp({ WS_AUTH_TIMEOUT_MS: '200' });
    const { token } = await session(app.url);
    // Opened first, so its own timeout would have fired before the silent socket's does.
    await using ok = await openRaw(app.wsUrl, token);
    ok.send({ id: 1, method: 'query', params: { path: 'session.me' } });
    await ok.reply((r) => r.id === 1);
    await using silent = await openRaw(app.wsUrl);
    const started = Date.now();
    expect((await silent.closed).code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(ok.ws.readyState).toBe(ok.ws.OPEN);
  });

  it('blocks beyond BLOCKS_MAX_PER_USER are refused with TOO_MANY_BLOCKS; blocking someone already blocked stays fine', async () => {
    await using app = await startTestApp({ BLOCKS_MAX_PER_USER: '2' });
    await using mallory = await connectUser(app.url);
    const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003'];
    await mallory.api.match.block.mutate({ userId: ids[0]! });
    await mallory.api.match.block.mutate({ userId: ids[1]! });
    await mallory.api.match.block.mutate({ userId: ids[1]! });
    await expect(mallory.api.match.block.mutate({ userId: ids[2]! })).rejects.toMatchObject({ data: { appCode: 'TOO_MANY_BLOCKS' } });
    await mallory.api.match.unblock.mutate({ userId: ids[0]! });
    await mallory.api.match.block.mutate({ userId: ids[2]! });
  });

  it('two colluding users cannot fill Redis: signals past the per-match bound are refused, and each history stays under its byte cap', async () => {
    await using app = await startTestApp({ SIGNAL_MAX_DESCRIPTIONS: '4', SIGNAL_MAX_CANDIDATES: '6', EVENT_HISTORY_MAX_BYTES: '65536' });
    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    const { matchId } = await a.next('matched');
    const sdp = 'v=0\r\n' + 'a'.repeat(19_000);
    for (let i = 0; i < 4; i++) await a.api.signal.send.mutate({ matchId, data: { kind: 'description', description: { type: 'offer', sdp } } });
    await expect(a.api.signal.send.mutate({ matchId, data: { kind: 'description', description: { type: 'offer', sdp } } })).rejects.toMatchObject({
      data: { appCode: 'TOO_MANY_SIGNALS' },
    });
    const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    // Candidates count one each however they are batched: 4 + 2 fill the bound of 6, and a batch
    // that would pass it is refused whole.
    await a.api.signal.send.mutate({ matchId, data: { kind: 'candidates', candidates: [candidate, candidate, candidate, candidate] } });
    await expect(a.api.signal.send.mutate({ matchId, data: { kind: 'candidates', candidates: [candidate, candidate, candidate] } })).rejects.toMatchObject({
      data: { appCode: 'TOO_MANY_SIGNALS' },
    });
    await a.api.signal.send.mutate({ matchId, data: { kind: 'candidates', candidates: [candidate, candidate] } });
    await expect(a.api.signal.send.mutate({ matchId, data: { kind: 'candidates', candidates: [candidate] } })).rejects.toMatchObject({
      data: { appCode: 'TOO_MANY_SIGNALS' },
    });
    // The partner's bound is their own; chat fills the histories to their byte cap and no further,
    // even for a history whose byte count is gone (written before it existed): it is counted anew.
    await app.server.services.redis.del(app.server.services.store.keys.eventBytes('global', b.userId));
    for (let i = 0; i < 60; i++) await b.api.chat.send.mutate({ matchId, text: 'y'.repeat(2000), clientMessageId: `flood-${i}-xxxx` });
    const { store } = app.server.services;
    const r = new Redis(app.redisUrl);
    try {
      for (const uid of [a.userId, b.userId]) {
        const entries = await r.xrange(store.keys.events('global', uid), '-', '+');
        const bytes = entries.reduce((n, [, fields]) => n + Buffer.byteLength(fields[1]!), 0);
        expect(bytes).toBeLessThanOrEqual(65536);
        expect(bytes).toBeGreaterThan(65536 - 5000);
        expect(Number(await r.get(store.keys.eventBytes('global', uid)))).toBe(entries.reduce((n, [, f]) => n + f[1]!.length, 0));
      }
    } finally {
      r.disconnect();
    }
  });

  it('unauthenticated and malformed calls are counted in refused_requests_total and write no audit rows', async () => {
    await using app = await startTestApp();
    const db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
    try {
      const rows = async () =>
        Number((await db.query<{ n: string }>('select (select count(*) from errors) + (select count(*) from recoveries) as n')).rows[0]!.n);
      await app.server.drain.flush();
      const before = await rows();
      const anon = httpClient(app.url);
      const forged = httpClient(app.url, 'not.a-token');
      const { token } = await session(app.url);
      const me = httpClient(app.url, token);
      for (let i = 0; i < 50; i++) {
        await anon.match.enqueue.mutate({}).catch(() => undefined);
        await forged.session.me.query().catch(() => undefined);
        await me.match.enqueue.mutate({ interests: [42 as unknown as string] }).catch(() => undefined);
        await me.chat.send.mutate({ matchId: 'nope', text: '', clientMessageId: 'x' }).catch(() => undefined);
      }
      await app.server.drain.flush();
      expect(await rows()).toBe(before);
      const metrics = await (await fetch(`${app.url}/metrics`)).text();
      expect(metrics).toMatch(/refused_requests_total\{reason="UNAUTHORIZED"\} 50/);
      expect(metrics).toMatch(/refused_requests_total\{reason="BAD_REQUEST"\} 100/);
    } finally {
      await db.end();
    }
  });

  it('more than HTTP_RATE_PER_IP requests a second from one address are answered 429 before any work, WebSocket upgrades included', async () => {
    // A clock that stands still: the whole test is one window.
    await using app = await startTestApp({ HTTP_RATE_PER_IP: '5' }, { clock: { now: () => 1_800_000_000_000 } });
    const statuses = await Promise.all(Array.from({ length: 8 }, () => fetch(`${app.url}/healthz`).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    await expect(openRaw(app.wsUrl)).rejects.toThrow('upgrade refused: 429');
  });

  it('a WebSocket that sends more than WS_MESSAGES_PER_SECOND messages a second is closed with 4429', async () => {
    await using app = await startTestApp({ WS_MESSAGES_PER_SECOND: '5' }, { clock: { now: () => 1_800_000_000_000 } });
    const { token } = await session(app.url);
    await using sock = await openRaw(app.wsUrl, token); // the connection params are message 1
    for (let id = 1; id <= 4; id++) sock.send({ id, method: 'query', params: { path: 'session.me' } });
    await sock.reply((r) => r.id === 4);
    sock.send({ id: 5, method: 'query', params: { path: 'session.me' } });
    expect((await sock.closed).code).toBe(4429);
    expect(sock.replies.some((r) => r.id === 5)).toBe(false);
  });

  it('behind a proxy, the address is the last X-Forwarded-For entry: a client cannot pick a new one per request', async () => {
    await using app = await startTestApp({ HTTP_RATE_PER_IP: '2', TRUST_PROXY: 'true' }, { clock: { now: () => 1_800_000_000_000 } });
    const as = (xff: string) => fetch(`${app.url}/healthz`, { headers: { 'x-forwarded-for': xff } }).then((r) => r.status);
    expect(await as('10.0.0.1, 203.0.113.7')).toBe(200);
    expect(await as('10.0.0.2, 203.0.113.7')).toBe(200);
    expect(await as('10.0.0.3, 203.0.113.7')).toBe(429);
    expect(await as('203.0.113.8')).toBe(200);
  });
});
