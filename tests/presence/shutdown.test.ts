import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, createTestRedis } from '../support/databases';
import { connectUser } from '../support/client';
import { startServerProcess } from '../support/server-process';

const FAST = { RECONNECT_GRACE_MS: '1500', HEARTBEAT_INTERVAL_MS: '300', HEARTBEAT_TIMEOUT_MS: '900', PRESENCE_SWEEP_INTERVAL_MS: '100' };

describe('graceful shutdown and process death', () => {
  it('SIGTERM: clients move to the other process and resume without losing events; the process exits cleanly', async () => {
    await using db = await createTestDatabase();
    await using kv = await createTestRedis();
    // Ann's last-seen goes stale while her server shuts down; the grace must outlast the shutdown
    // and her reconnect even on a loaded machine (the whole suite runs in parallel on 2 cores).
    const env = { ...FAST, RECONNECT_GRACE_MS: '5000', DATABASE_URL: db.url, REDIS_URL: kv.url, ...kv.env, REDIS_PREFIX: kv.prefix };
    await using a = await startServerProcess(env);
    await using b = await startServerProcess(env);
    const ann = await connectUser(a.url, { displayName: 'Ann' });
    await using bob = await connectUser(b.url, { displayName: 'Bob' });
    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});
    const m = await ann.next('matched');

    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const last = ann.events.at(-1)!.id;
    await ann.close();
    // While Ann moves over, Bob writes to her.
    await bob.api.chat.send.mutate({ matchId: m.matchId, text: 'are you there?', clientMessageId: randomUUID() });
    await using again = await connectUser(b.url, { token: ann.token, userId: ann.userId, lastEventId: last });
    await again.next('chat', (e) => e.text === 'are you there?');
    expect(again.events.filter((e) => e.event.type === 'chat')).toHaveLength(1);
    expect((await again.api.session.me.query()).matchId).toBe(m.matchId);
    expect(bob.events.some((e) => e.event.type === 'partner_left')).toBe(false);
  }, 60_000);

  it('SIGKILL: the survivor notices the silent users and re-queues their partners', async () => {
    await using db = await createTestDatabase();
    await using kv = await createTestRedis();
    const env = { ...FAST, DATABASE_URL: db.url, REDIS_URL: kv.url, ...kv.env, REDIS_PREFIX: kv.prefix };
    await using a = await startServerProcess(env);
    await using b = await startServerProcess(env);
    const ann = await connectUser(a.url);
    await using bob = await connectUser(b.url);
    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});
    const m = await bob.next('matched');
    a.child.kill('SIGKILL');
    await a.exited;
    await ann.close().catch(() => {});
    await bob.next('partner_reconnecting', (e) => e.matchId === m.matchId, 10_000);
    expect(await bob.next('partner_left', (e) => e.matchId === m.matchId, 10_000)).toMatchObject({ reason: 'disconnect' });
    expect((await bob.api.session.me.query()).state).toBe('WAITING');
  }, 60_000);
});
