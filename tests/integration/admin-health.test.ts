import { describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { operatorSession } from '../support/operators';
import { connectUser } from '../support/client';
import { eq } from 'drizzle-orm';
import { letterForEntry, storeDeadLetters } from '../../server/audit/dead-letters';
import { errors, stateTransitions } from '../../server/audit/schema';

const cookies = new WeakMap<TestApp, Promise<string>>();

/** Raw HTTP as an admin operator (status codes are part of what is tested); one operator per app. */
async function admin(app: TestApp, path: string, body?: unknown) {
  if (!cookies.has(app))
    cookies.set(
      app,
      operatorSession(app, 'admin').then((s) => s.cookie),
    );
  const cookie = await cookies.get(app)!;
  const res = await fetch(`${app.url}/trpc/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as { result?: { data: unknown }; error?: { message: string; data: { appCode: string } } } };
}

describe('operator procedures', () => {
  it('admin.health reports breakers, bulkheads and paused pools', async () => {
    await using app = await startTestApp();
    const r = await admin(app, 'admin.health');
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.json.result?.data)).toContain('redis');
  });

  it('a paused pool makes no matches until it is resumed', async () => {
    await using app = await startTestApp();
    expect((await admin(app, 'admin.pools.pause', { pool: 'global', reason: 'investigating' })).status).toBe(200);
    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    await b.next('queued');
    expect(a.events.some((e) => e.event.type === 'matched')).toBe(false);
    await admin(app, 'admin.pools.resume', { pool: 'global' });
    await app.server.services.match.tick(); // the safety-net sweep pairs them now
    await a.next('matched');
  });

  it('a dead letter of the drain is listed, written again by retry, and counted in admin.health while it waits', async () => {
    await using app = await startTestApp();
    const { database } = app.server.services;
    const rec = { kind: 'transition' as const, eventId: 'e-dl-1', pool: 'global', at: Date.now(), userId: 'u-dl', from: 'IDLE', to: 'WAITING', version: 1 };
    await storeDeadLetters(
      database.db,
      [letterForEntry({ pool: 'global', streamId: '1-0', rec }, '57014 canceling statement due to statement timeout', 5)],
      new Date(),
    );

    expect((await admin(app, 'admin.health')).json.result?.data).toMatchObject({ deadLetters: 1 });
    const listed = await admin(app, 'admin.deadLetters.list?input=' + encodeURIComponent(JSON.stringify({})));
    expect(listed.json.result?.data).toEqual([expect.objectContaining({ id: 'outbox:global:1-0', status: 'pending', attempts: 5, kind: 'transition' })]);

    const retried = await admin(app, 'admin.deadLetters.retry', { id: 'outbox:global:1-0' });
    expect(retried.json.result?.data).toMatchObject({ status: 'retried', attempts: 6 });
    expect((await database.db.select().from(stateTransitions).where(eq(stateTransitions.eventId, 'e-dl-1'))).map((t) => t.userId)).toEqual(['u-dl']);
    expect((await admin(app, 'admin.health')).json.result?.data).toMatchObject({ deadLetters: 0 });
  });

  it('a retry that fails again tells the operator why, as CONFLICT with its own code', async () => {
    await using app = await startTestApp();
    const rec = { kind: 'match_ended' as const, eventId: 'e-dl-2', pool: 'global', at: Date.now(), matchId: 'm-missing', reason: 'end' };
    await storeDeadLetters(
      app.server.services.database.db,
      [letterForEntry({ pool: 'global', streamId: '2-0', rec }, 'match m-missing is not in Postgres yet', 5)],
      new Date(),
    );
    const r = await admin(app, 'admin.deadLetters.retry', { id: 'outbox:global:2-0' });
    expect(r.status).toBe(409);
    expect(r.json.error?.data.appCode).toBe('DEAD_LETTER_RETRY_FAILED');
    expect(r.json.error?.message).toMatch(
      /^Dead letter outbox:global:2-0 was not written again \(match m-missing is not in Postgres yet\)\. It stays pending after 6 attempts/,
    );
  });

  it('retrying a dead letter that does not exist is a clear NOT_FOUND', async () => {
    await using app = await startTestApp();
    const r = await admin(app, 'admin.deadLetters.retry', { id: 'nope' });
    expect(r.status).toBe(404);
    expect(r.json.error?.data.appCode).toBe('DEAD_LETTER_NOT_FOUND');
    expect((await admin(app, 'admin.deadLetters.discard', { id: 'nope' })).status).toBe(404);
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
