import { TRPCClientError, createTRPCClient, httpLink } from '@trpc/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../../server/trpc/router';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { httpClient, ADULT } from '../support/client';
import { cookieClient, operatorClient, type OperatorApi } from '../support/operators';
import { POOL, manualClock } from './fixtures/store';

const clock = manualClock();
let app: TestApp;
let admin: OperatorApi;
// The background drain and match tick are off: the outbox is inspected, then flushed by hand.
beforeAll(async () => {
  app = await startTestApp({}, { clock, background: false });
  admin = await operatorClient(app, 'admin', { name: 'alice' });
});
afterAll(async () => {
  await app?.[Symbol.asyncDispose]();
});

const store = () => app.server.services.store;
/** State changes in the outbox; a refused call may add audit records of the refusal (errors, recoveries), never a transition. */
const outboxLength = async () =>
  (await app.server.services.redis.xrange(store().keys.outbox(POOL), '-', '+')).filter(([, fields]) => String(fields[1]).includes('"kind":"transition"'))
    .length;

async function auditRows(userId: string) {
  const db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
  try {
    const r = await db.query<{ from_state: string; to_state: string; actor: string | null; reason: string | null }>(
      'select from_state, to_state, actor, reason from state_transitions where user_id = $1 order by version',
      [userId],
    );
    return r.rows;
  } finally {
    await db.end();
  }
}

describe('admin procedures over HTTP as an admin operator', () => {
  it('admin.counts reports how many users are in each state', async () => {
    const before = await admin.admin.counts.query();
    await store().force({ uid: 'count-1', pool: POOL, to: 'IN_CALL', actor: 'test', reason: 'setup' });
    await store().force({ uid: 'count-2', pool: POOL, to: 'IN_CALL', actor: 'test', reason: 'setup' });
    const after = await admin.admin.counts.query({ pool: POOL });
    expect(after.IN_CALL).toBe(before.IN_CALL + 2);
    expect(after.WAITING).toBe(before.WAITING);
  });

  it('admin.stuck lists users who have been in a state too long', async () => {
    await store().force({ uid: 'stuck-old', pool: POOL, to: 'DISCONNECTING', actor: 'test', reason: 'setup' });
    clock.advance(60_000);
    await store().force({ uid: 'stuck-new', pool: POOL, to: 'DISCONNECTING', actor: 'test', reason: 'setup' });
    const stuck = await admin.admin.stuck.query({ state: 'DISCONNECTING', olderThanMs: 30_000 });
    expect(stuck.map((u) => u.userId)).toEqual(['stuck-old']);
  });

  it('admin.force moves a user anywhere and is audited with the operator as actor and their reason', async () => {
    await store().enqueue({ uid: 'forced', pool: POOL, interests: ['nobody-else'] });
    const r = await admin.admin.force.mutate({ userId: 'forced', to: 'IN_CALL', reason: 'support ticket 42' });
    expect(r).toEqual({ from: 'WAITING', state: 'IN_CALL', version: 2 });

    const records = await app.server.services.redis.xrange(store().keys.outbox(POOL), '-', '+');
    const last = JSON.parse(records.at(-1)![1][1]!) as Record<string, unknown>;
    expect(last).toMatchObject({ kind: 'transition', userId: 'forced', from: 'WAITING', to: 'IN_CALL', actor: 'operator:alice', reason: 'support ticket 42' });

    await app.server.drain.flush();
    expect((await auditRows('forced')).at(-1)).toEqual({ from_state: 'WAITING', to_state: 'IN_CALL', actor: 'operator:alice', reason: 'support ticket 42' });
  });

  it('admin.consistency repairs a user found in two state sets, then finds nothing', async () => {
    await store().force({ uid: 'doubled', pool: POOL, to: 'IDLE', actor: 'test', reason: 'setup' });
    await app.server.services.redis.zadd(store().keys.state(POOL, 'IN_CALL'), 1, 'doubled');

    const report = await admin.admin.consistency.mutate({ pool: POOL, repair: true });
    expect(report.inconsistent).toEqual([{ userId: 'doubled', removed: ['IN_CALL'], added: null, lobby: null }]);
    expect((await admin.admin.consistency.mutate({ pool: POOL })).inconsistent).toEqual([]);
  });
});

describe('admin procedures without a signed-in operator', () => {
  /** tRPC over plain HTTP with only the admin token, which no longer opens admin.*. */
  const tokenApi = (token: string) => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${app.url}/trpc`, headers: { 'x-admin-token': token } })] });
  const calls = {
    'admin.counts': (api: OperatorApi) => api.admin.counts.query(),
    'admin.stuck': (api: OperatorApi) => api.admin.stuck.query({ state: 'WAITING', olderThanMs: 0 }),
    'admin.force': (api: OperatorApi) => api.admin.force.mutate({ userId: 'victim', to: 'IN_CALL', reason: 'not allowed' }),
    'admin.consistency': (api: OperatorApi) => api.admin.consistency.mutate({ pool: POOL }),
  };

  it.each(Object.keys(calls) as Array<keyof typeof calls>)('%s is refused with UNAUTHORIZED: no cookie, a forged one, or the admin token', async (name) => {
    const before = await outboxLength();
    for (const api of [httpClient(app.url), cookieClient(app.url, 'rdv_op=forged-token'), tokenApi(ADMIN_TOKEN)]) {
      const err = await calls[name](api).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TRPCClientError);
      expect(err).toMatchObject({
        data: { code: 'UNAUTHORIZED', httpStatus: 401, appCode: 'OPERATOR_SIGNED_OUT' },
        message: 'Please sign in to the operator console.',
      });
    }
    expect(await outboxLength()).toBe(before);
    expect(await app.server.services.redis.exists(store().keys.user(POOL, 'victim'))).toBe(0);
  });
});

describe('state-validating middleware', () => {
  it('refuses match.cancel while IDLE with PRECONDITION_FAILED before doing any work', async () => {
    const { token, userId } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const before = await outboxLength();

    const err = await httpClient(app.url, token)
      .match.cancel.mutate()
      .catch((e: unknown) => e);

    expect(err).toMatchObject({
      message: "You can't cancel while idle.",
      data: { code: 'PRECONDITION_FAILED', appCode: 'WRONG_STATE', details: { current: 'IDLE', allowed: ['WAITING'], action: 'cancel' } },
    });
    expect(await app.server.services.redis.exists(store().keys.user(POOL, userId))).toBe(0);
    expect(await outboxLength()).toBe(before);
  });

  it('refuses match.joined while WAITING and leaves the user where they were', async () => {
    const { token, userId } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const api = httpClient(app.url, token);
    await api.match.enqueue.mutate({ interests: ['only-me'] });
    const before = await store().getUser(userId);

    const err = await api.match.joined.mutate({ matchId: '00000000-0000-4000-8000-000000000000' }).catch((e: unknown) => e);

    expect(err).toMatchObject({ message: "You can't join a call while waiting.", data: { code: 'PRECONDITION_FAILED' } });
    expect(await store().getUser(userId)).toEqual(before);
  });
});
