/**
 * The WebSocket transport with either adapter (WS_ADAPTER): our lean handler and tRPC's stock
 * applyWSSHandler serve the same app, behind the same edge. The flows a client depends on, and
 * the bounds that hold for both; the one bound only ours enforces is pinned as such.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { USER_MESSAGES } from '../../server/resilience/messages';
import { openRaw, subscribe } from '../hardening/raw-ws';
import { startTestApp } from '../support/app';
import { connectUser, httpClient, ADULT } from '../support/client';

const session = (url: string) => httpClient(url).session.create.mutate({ consent: ADULT });

describe.each(['lean', 'stock'] as const)('WS_ADAPTER=%s', (adapter) => {
  const start = (env: Record<string, string> = {}, clock?: { now: () => number }) => startTestApp({ WS_ADAPTER: adapter, ...env }, clock ? { clock } : {});

  it('two users are matched, chat and skip over real tRPC clients; a reconnect resumes the events with no gap and no duplicate', async () => {
    await using app = await start();
    await using ann = await connectUser(app.url, { displayName: 'Ann' });
    await using bob = await connectUser(app.url, { displayName: 'Bob' });
    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});
    const m = await ann.next('matched');
    expect((await bob.next('matched')).matchId).toBe(m.matchId);
    await ann.api.chat.send.mutate({ matchId: m.matchId, text: 'hello Bob', clientMessageId: randomUUID() });
    expect(await bob.next('chat')).toMatchObject({ from: 'partner', text: 'hello Bob' });

    // Bob's socket goes; he comes back with the last id he saw and gets what he missed, once.
    const last = bob.events.at(-1)!.id;
    await bob.close();
    await ann.api.chat.send.mutate({ matchId: m.matchId, text: 'still there?', clientMessageId: randomUUID() });
    await using back = await connectUser(app.url, { token: bob.token, userId: bob.userId, lastEventId: last });
    expect(await back.next('chat')).toMatchObject({ text: 'still there?' });
    await ann.api.match.skip.mutate({ matchId: m.matchId });
    expect(await back.next('partner_left')).toMatchObject({ reason: 'skip', matchId: m.matchId });
    expect(back.events.filter((e) => e.event.type === 'chat')).toHaveLength(1);
    expect(new Set(back.events.map((e) => e.id)).size).toBe(back.events.length);
  });

  it('a socket without a valid token is told UNAUTHORIZED and closed', async () => {
    await using app = await start();
    await using sock = await openRaw(app.wsUrl, 'garbage.token');
    expect((await sock.reply((r) => r.id === null)).error?.data).toMatchObject({ code: 'UNAUTHORIZED', appCode: 'UNAUTHORIZED' });
    await sock.closed;
  });

  it('a user beyond WS_MAX_PER_USER sockets is refused with TOO_MANY_CONNECTIONS and the socket closed', async () => {
    await using app = await start({ WS_MAX_PER_USER: '1' });
    const { token } = await session(app.url);
    await using first = await openRaw(app.wsUrl, token);
    first.send({ id: 1, method: 'query', params: { path: 'session.me' } });
    await first.reply((r) => r.id === 1 && r.result?.type === 'data');
    await using second = await openRaw(app.wsUrl, token);
    const refused = await second.reply((r) => r.id === null);
    expect(refused.error?.data).toMatchObject({ appCode: 'TOO_MANY_CONNECTIONS' });
    expect(refused.error?.message).toBe(USER_MESSAGES.TOO_MANY_CONNECTIONS);
    await second.closed;
  });

  it('a socket that does not authenticate within WS_AUTH_TIMEOUT_MS is closed with 4408', async () => {
    await using app = await start({ WS_AUTH_TIMEOUT_MS: '200' });
    await using silent = await openRaw(app.wsUrl);
    expect((await silent.closed).code).toBe(4408);
  });

  it('a socket that sends more than WS_MESSAGES_PER_SECOND messages a second is closed with 4429, the one over unanswered', async () => {
    await using app = await start({ WS_MESSAGES_PER_SECOND: '5' }, { now: () => 1_800_000_000_000 });
    const { token } = await session(app.url);
    await using sock = await openRaw(app.wsUrl, token); // the connection params are message 1
    for (let id = 1; id <= 4; id++) sock.send({ id, method: 'query', params: { path: 'session.me' } });
    await sock.reply((r) => r.id === 4);
    sock.send({ id: 5, method: 'query', params: { path: 'session.me' } });
    expect((await sock.closed).code).toBe(4429);
    expect(sock.replies.some((r) => r.id === 5)).toBe(false);
  });

  it('a socket whose session expires is told UNAUTHORIZED and closed with 4401', async () => {
    await using app = await start({ SESSION_TTL_MS: '1000' });
    const { token } = await session(app.url);
    await using sock = await openRaw(app.wsUrl, token);
    sock.send({ id: 1, method: 'query', params: { path: 'session.me' } });
    await sock.reply((r) => r.id === 1 && r.result?.type === 'data');
    expect((await sock.closed).code).toBe(4401);
    expect(sock.replies.find((r) => r.id === null)?.error?.message).toMatch(/expired/);
  });

  it('a message with more calls than TRPC_MAX_BATCH runs none of them and is answered BATCH_TOO_LARGE', async () => {
    await using app = await start({ TRPC_MAX_BATCH: '2' });
    const { token } = await session(app.url);
    await using sock = await openRaw(app.wsUrl, token);
    sock.send([1, 2, 3].map((id) => ({ id, method: 'mutation', params: { path: 'match.enqueue', input: {} } })));
    // Ours answers the message once (id null); the stock adapter answers each call.
    const refused = await sock.reply((r) => r.error !== undefined);
    expect(refused.error?.data).toMatchObject({ appCode: 'BATCH_TOO_LARGE', httpStatus: 400 });
    expect(refused.id).toBe(adapter === 'lean' ? null : 1);
    sock.send({ id: 9, method: 'query', params: { path: 'session.me' } });
    expect((await sock.reply((r) => r.id === 9)).result?.data).toMatchObject({ state: 'IDLE' });
  });

  it(`WS_MAX_SUBSCRIPTIONS on one socket is ${adapter === 'lean' ? 'enforced' : 'not enforced (the stock adapter has no such bound)'}`, async () => {
    await using app = await start({ WS_MAX_SUBSCRIPTIONS: '1' });
    const { token } = await session(app.url);
    await using sock = await openRaw(app.wsUrl, token);
    sock.send(subscribe(1));
    await sock.reply((r) => r.id === 1 && r.result?.type === 'started');
    sock.send(subscribe(2));
    const second = await sock.reply((r) => r.id === 2);
    if (adapter === 'lean') expect(second.error?.data).toMatchObject({ appCode: 'TOO_MANY_SUBSCRIPTIONS' });
    else expect(second.result?.type).toBe('started');
  });
});
