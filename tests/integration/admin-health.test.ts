import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp } from '../support/app';
import { connectUser } from '../support/client';
import { errors } from '../../server/audit/schema';

async function admin(url: string, path: string, body?: unknown) {
  const res = await fetch(`${url}/trpc/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'x-admin-token': ADMIN_TOKEN, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { result?: { data: unknown }; error?: { message: string; data: { appCode: string } } } };
}

describe('operator procedures', () => {
  it('admin.health reports breakers, bulkheads and paused pools', async () => {
    await using app = await startTestApp();
    const r = await admin(app.url, 'admin.health');
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.json.result?.data)).toContain('redis');
  });

  it('a paused pool makes no matches until it is resumed', async () => {
    await using app = await startTestApp();
    expect((await admin(app.url, 'admin.pools.pause', { pool: 'global', reason: 'investigating' })).status).toBe(200);
    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    await b.next('queued');
    expect(a.events.some((e) => e.event.type === 'matched')).toBe(false);
    await admin(app.url, 'admin.pools.resume', { pool: 'global' });
    await app.server.services.match.tick(); // the safety-net sweep pairs them now
    await a.next('matched');
  });

  it('retrying a dead letter that does not exist is a clear NOT_FOUND', async () => {
    await using app = await startTestApp();
    const r = await admin(app.url, 'admin.deadLetters.retry', { id: 'nope' });
    expect(r.status).toBe(404);
    expect(r.json.error?.data.appCode).toBe('DEAD_LETTER_NOT_FOUND');
  });
});

describe('error accounting', () => {
  it('a refused call is classified, counted in errors_total and audited in the errors table', async () => {
    await using app = await startTestApp();
    await using a = await connectUser(app.url);
    await expect(a.api.match.skip.mutate({})).rejects.toMatchObject({ data: { appCode: 'NOT_IN_MATCH' } });
    await expect
      .poll(async () => (await (await fetch(`${app.url}/metrics`)).text()).match(/^errors_total\{[^}]*\} \d+/m)?.[0] ?? '', { timeout: 5000 })
      .toContain('errors_total');
    const { database } = app.server.services;
    await expect
      .poll(async () => (await database.db.select().from(errors)).map((e) => ({ operation: e.operation, userId: e.userId })), { timeout: 5000 })
      .toEqual([{ operation: 'mutation:match.skip', userId: a.userId }]);
  });
});
