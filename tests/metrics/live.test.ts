/**
 * The metrics that follow what people do, on a real server: users per state and queue depth
 * (read from Redis at scrape), live subscriptions, rate-limit refusals, reports, sanctions and
 * dead letters, each fed by the production wiring in server/app.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { startTestApp } from '../support/app';
import { ADULT, connectUser, httpClient, refusal } from '../support/client';
import { scrape } from './scrape';

describe('live metrics', () => {
  it('users{pool,state} and queue_depth{pool} follow people queueing and leaving the queue', async () => {
    await using app = await startTestApp({}, { background: false });
    const before = await scrape(app.url);
    expect(before.value('queue_depth', { pool: 'global' })).toBe(0);
    expect(before.value('users', { pool: 'global', state: 'WAITING' })).toBe(0);

    await using ann = await connectUser(app.url, { displayName: 'Ann' });
    await ann.api.match.enqueue.mutate({});
    await vi.waitFor(async () => {
      const m = await scrape(app.url);
      expect(m.value('queue_depth', { pool: 'global' })).toBe(1);
      expect(m.value('users', { pool: 'global', state: 'WAITING' })).toBe(1);
    });

    await ann.api.match.cancel.mutate({});
    await vi.waitFor(async () => {
      const m = await scrape(app.url);
      expect(m.value('queue_depth', { pool: 'global' })).toBe(0);
      expect(m.value('users', { pool: 'global', state: 'WAITING' })).toBe(0);
      expect(m.value('users', { pool: 'global', state: 'IDLE' })).toBe(1);
    });
  });

  it('when the pool counts cannot be read, /metrics still answers, without users and queue_depth samples', async () => {
    await using app = await startTestApp({}, { background: false });
    vi.spyOn(app.server.services.store, 'poolCounts').mockRejectedValue(new Error('Connection is closed.'));
    const m = await scrape(app.url);
    expect(m.types.get('users')).toBe('gauge');
    expect(m.labelValues('users', 'pool').size).toBe(0);
    expect(m.labelValues('queue_depth', 'pool').size).toBe(0);
    expect(m.value('matches_total')).toBe(0);
  });

  it.each(['lean', 'stock'])('ws_subscriptions counts live subscriptions, up as they start and down as they end (WS_ADAPTER=%s)', async (adapter) => {
    await using app = await startTestApp({ WS_ADAPTER: adapter }, { background: false });
    expect((await scrape(app.url)).value('ws_subscriptions')).toBe(0);
    const ann = await connectUser(app.url);
    const bob = await connectUser(app.url);
    await vi.waitFor(async () => expect((await scrape(app.url)).value('ws_subscriptions')).toBe(2));
    expect((await scrape(app.url)).value('trpc_requests_total', { procedure: 'match.events', type: 'subscription', code: 'OK' })).toBe(2);
    await ann.close();
    await vi.waitFor(async () => expect((await scrape(app.url)).value('ws_subscriptions')).toBe(1));
    await bob.close();
    await vi.waitFor(async () => expect((await scrape(app.url)).value('ws_subscriptions')).toBe(0));
  });

  it('rate_limited_total counts each refusal by action', async () => {
    await using app = await startTestApp({ RATE_STATS: '2/1m' }, { background: false });
    // Every action is there from the start, so the first refusal is an increase.
    expect((await scrape(app.url)).value('rate_limited_total', { action: 'stats' })).toBe(0);
    const { token } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const api = httpClient(app.url, token);
    await api.stats.online.query();
    await api.stats.online.query();
    expect((await refusal(api.stats.online.query())).data.appCode).toBe('RATE_LIMITED');
    expect((await refusal(api.stats.online.query())).data.appCode).toBe('RATE_LIMITED');
    const m = await scrape(app.url);
    expect(m.value('rate_limited_total', { action: 'stats' })).toBe(2);
    expect(m.value('trpc_requests_total', { procedure: 'stats.online', code: 'TOO_MANY_REQUESTS' })).toBe(2);
  });

  it('reports_total counts reports by reason; sanctions_total counts sanctions by kind', async () => {
    await using app = await startTestApp();
    const start = await scrape(app.url);
    expect(start.value('reports_total', { reason: 'spam' })).toBe(0);
    expect(start.value('sanctions_total', { kind: 'ban' })).toBe(0);
    await using ann = await connectUser(app.url, { displayName: 'Ann' });
    await using bob = await connectUser(app.url, { displayName: 'Bob' });
    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});
    const { matchId } = await bob.next('matched');
    await bob.api.safety.report.mutate({ matchId, reason: 'spam', block: false });
    // Reporting the same conversation again is refused and not counted.
    expect((await refusal(bob.api.safety.report.mutate({ matchId, reason: 'spam', block: false }))).data.appCode).toBe('ALREADY_REPORTED');
    const { sanctions } = app.server.services;
    await sanctions.warn(ann.userId, 'Be kind.', 'test');
    await sanctions.ban(ann.userId, 60_000, 'test', 'test');
    await sanctions.lift(ann.userId, 'test', 'test');
    const m = await scrape(app.url);
    expect(m.value('reports_total', { reason: 'spam' })).toBe(1);
    expect(m.value('sanctions_total', { kind: 'warn' })).toBe(1);
    expect(m.value('sanctions_total', { kind: 'ban' })).toBe(1);
    expect(m.value('sanctions_total', { kind: 'lift' })).toBe(1);
  });

  it('dead_letters_total counts what is parked in the dead-letter queue', async () => {
    await using app = await startTestApp({}, { background: false });
    expect((await scrape(app.url)).value('dead_letters_total')).toBe(0);
    await app.server.services.deadLetters.park({
      id: 'room:global:r1',
      source: 'room_deletion',
      kind: 'room_deletion',
      payload: { pool: 'global', room: 'r1' },
      error: 'refused',
      attempts: 5,
    });
    expect((await scrape(app.url)).value('dead_letters_total')).toBe(1);
  });

  it('the dependency bulkheads are exported for Redis and Postgres, and the event-loop delay by prom-client', async () => {
    await using app = await startTestApp({}, { background: false });
    const m = await scrape(app.url);
    for (const dependency of ['redis', 'postgres']) {
      expect(m.value('dependency_calls_limit', { dependency }), dependency).toBeGreaterThan(0);
      expect(m.value('dependency_calls_in_flight', { dependency }), dependency).toBeGreaterThanOrEqual(0);
      expect(m.value('dependency_calls_queued', { dependency }), dependency).toBe(0);
    }
    for (const name of ['nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_lag_max_seconds', 'nodejs_eventloop_lag_seconds'])
      expect(m.types.get(name), name).toBe('gauge');
  });
});
