/**
 * RED metrics of the tRPC procedures on a real server: each call counted by procedure, type and
 * outcome code, with its duration; refusals at the edge counted like any other outcome; a path
 * that names no procedure adds no label value.
 */
import { describe, expect, it } from 'vitest';
import { appRouter } from '../../server/trpc/router';
import { startTestApp } from '../support/app';
import { ADULT, httpClient, refusal } from '../support/client';
import { scrape } from './scrape';

describe('procedure metrics', () => {
  it('a successful and a failed call are counted with their procedure, type and code, and timed', async () => {
    await using app = await startTestApp({}, { background: false });
    const { token } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const api = httpClient(app.url, token);
    await api.stats.online.query();
    await api.stats.online.query();
    // Cancelling while IDLE: the state script refuses it (a domain error, PRECONDITION_FAILED).
    expect((await refusal(api.match.cancel.mutate({}))).data.appCode).toBe('WRONG_STATE');
    // No session at all: refused at the edge, before the procedure runs.
    expect((await refusal(httpClient(app.url).match.cancel.mutate({}))).data.appCode).toBe('UNAUTHORIZED');

    const m = await scrape(app.url);
    expect(m.types.get('trpc_requests_total')).toBe('counter');
    expect(m.types.get('trpc_request_duration_seconds')).toBe('histogram');
    expect(m.value('trpc_requests_total', { procedure: 'session.create', type: 'mutation', code: 'OK' })).toBe(1);
    expect(m.value('trpc_requests_total', { procedure: 'stats.online', type: 'query', code: 'OK' })).toBe(2);
    expect(m.value('trpc_requests_total', { procedure: 'match.cancel', type: 'mutation', code: 'PRECONDITION_FAILED' })).toBe(1);
    expect(m.value('trpc_requests_total', { procedure: 'match.cancel', type: 'mutation', code: 'UNAUTHORIZED' })).toBe(1);
    expect(m.value('trpc_request_duration_seconds_count', { procedure: 'stats.online', type: 'query' })).toBe(2);
    expect(m.value('trpc_request_duration_seconds_count', { procedure: 'match.cancel', type: 'mutation' })).toBe(2);
    expect(m.value('trpc_request_duration_seconds_sum', { procedure: 'stats.online', type: 'query' })).toBeGreaterThan(0);
    expect(m.value('trpc_request_duration_seconds_bucket', { procedure: 'stats.online', type: 'query', le: '+Inf' })).toBe(2);
  });

  it('a path that names no procedure adds no label value; every label value is a procedure of the router', async () => {
    await using app = await startTestApp({}, { background: false });
    for (const path of ['no.such.procedure', 'admin.__proto__', `x${'y'.repeat(200)}`]) {
      expect((await fetch(`${app.url}/trpc/${path}`)).status).toBe(404);
      expect((await fetch(`${app.url}/trpc/${path}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(404);
    }
    await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const m = await scrape(app.url);
    const known = new Set(Object.keys(appRouter._def.procedures));
    const seen = new Set([...m.labelValues('trpc_requests_total', 'procedure'), ...m.labelValues('trpc_request_duration_seconds_count', 'procedure')]);
    expect([...seen]).toEqual(['session.create']);
    for (const p of seen) expect(known).toContain(p);
  });
});
