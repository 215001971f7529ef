/**
 * Roles and the action log on a real server: viewers read, moderators act on people, admins act
 * on the system; every operator mutation is recorded (who, role, what, on whom, outcome, the
 * input without secrets), a failed one too; nothing is done when its record cannot be written;
 * a mutation from another site's page is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestApp } from '../support/app';
import { connectUser, refusal } from '../support/client';
import { cookieClient, operatorSession } from '../support/operators';

let app: TestApp;
let viewer: Awaited<ReturnType<typeof operatorSession>>;
let moderator: Awaited<ReturnType<typeof operatorSession>>;
let admin: Awaited<ReturnType<typeof operatorSession>>;

beforeAll(async () => {
  app = await startTestApp();
  [viewer, moderator, admin] = [await operatorSession(app, 'viewer'), await operatorSession(app, 'moderator'), await operatorSession(app, 'admin')];
});
afterAll(async () => {
  await app?.[Symbol.asyncDispose]();
});

const banned = async (userId: string) => (await app.server.services.moderation.history(userId)).some((a) => a.action === 'ban');

describe('roles', () => {
  it('a viewer reads but cannot act: a ban is refused and not done', async () => {
    await using ann = await connectUser(app.url);
    expect(await viewer.api.admin.counts.query()).toMatchObject({ IDLE: expect.any(Number) });
    expect(await viewer.api.admin.moderation.history.query({ userId: ann.userId })).toEqual([]);
    const r = await refusal(viewer.api.admin.moderation.ban.mutate({ userId: ann.userId, durationMs: null, reason: 'testing roles' }));
    expect(r).toMatchObject({
      message: "Your operator role doesn't allow that.",
      data: { code: 'FORBIDDEN', appCode: 'ROLE_REQUIRED', details: { need: 'moderator' } },
    });
    expect(await banned(ann.userId)).toBe(false);
  });

  it('a moderator acts on people but not on the system or on operators', async () => {
    await using ann = await connectUser(app.url);
    await moderator.api.admin.moderation.warn.mutate({ userId: ann.userId, message: 'keep it civil' });
    for (const call of [
      moderator.api.admin.force.mutate({ userId: ann.userId, to: 'IDLE', reason: 'not mine to do' }),
      moderator.api.admin.pools.pause.mutate({ pool: 'global', reason: 'not mine to do' }),
      moderator.api.operators.create.mutate({ name: 'sneaky', password: 'long enough password', role: 'admin' }),
      moderator.api.operators.list.query(),
    ])
      expect((await refusal(call)).data).toMatchObject({ appCode: 'ROLE_REQUIRED', details: { need: 'admin' } });
    expect(await app.server.services.store.pausedPools()).toEqual([]);
  });

  it('an admin does everything, and the audit trail names the operator', async () => {
    // Someone with no session here: a ban of a connected person would ban this test's address too.
    await admin.api.admin.moderation.ban.mutate({ userId: 'absent-person', durationMs: 60_000, reason: 'spam, by hand' });
    const [ban] = await app.server.services.moderation.history('absent-person');
    expect(ban).toMatchObject({ action: 'ban', actor: `operator:${admin.operator.name}` });
    await admin.api.admin.pools.pause.mutate({ pool: 'global', reason: 'checking' });
    await admin.api.admin.pools.resume.mutate({ pool: 'global' });
  });

  it('an admin creates, promotes and disables operators; a disabled one cannot sign in', async () => {
    const made = await admin.api.operators.create.mutate({ name: 'newbie', password: 'a long enough password', role: 'viewer' });
    await admin.api.operators.update.mutate({ id: made.id, role: 'moderator' });
    const res = await fetch(`${app.url}/trpc/operators.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'newbie', password: 'a long enough password' }),
    });
    expect(((await res.json()) as { result: { data: unknown } }).result.data).toMatchObject({ name: 'newbie', role: 'moderator' });
    await admin.api.operators.update.mutate({ id: made.id, disabled: true });
    expect((await refusal(cookieClient(app.url, '').operators.login.mutate({ name: 'newbie', password: 'a long enough password' }))).data.appCode).toBe(
      'LOGIN_FAILED',
    );
    expect((await admin.api.operators.list.query()).find((o) => o.id === made.id)).toMatchObject({ role: 'moderator', disabledAt: expect.any(String) });
  });

  it('an admin cannot disable or demote themselves', async () => {
    const self = await operatorSession(app, 'admin');
    for (const change of [{ disabled: true }, { role: 'moderator' as const }])
      expect((await refusal(self.api.operators.update.mutate({ id: self.operator.id, ...change }))).data.appCode).toBe('CANNOT_CHANGE_SELF');
    expect(await self.api.operators.me.query()).toEqual(self.operator);
  });

  it('an operator changes their own password with the current one', async () => {
    const me = await operatorSession(app, 'viewer');
    expect((await refusal(me.api.operators.changePassword.mutate({ current: 'wrong', next: 'a brand new password' }))).data.appCode).toBe('WRONG_PASSWORD');
    await me.api.operators.changePassword.mutate({ current: 'correct horse battery staple', next: 'a brand new password' });
    expect(await cookieClient(app.url, '').operators.login.mutate({ name: me.operator.name, password: 'a brand new password' })).toMatchObject({
      id: me.operator.id,
    });
  });
});

describe('the action log', () => {
  it('records every operator mutation with who, role, what, target, input without secrets and outcome, a failed one too', async () => {
    const mod = await operatorSession(app, 'moderator');
    await using ann = await connectUser(app.url);
    await mod.api.admin.moderation.warn.mutate({ userId: ann.userId, message: 'first warning' });
    const missing = '00000000-0000-4000-8000-00000000abcd';
    expect((await refusal(mod.api.admin.moderation.decide.mutate({ reportId: missing, decision: 'dismiss', reason: 'no such report' }))).data.appCode).toBe(
      'MODERATION_NOT_FOUND',
    );
    await mod.api.operators.changePassword.mutate({ current: 'correct horse battery staple', next: 'another long password' });

    const log = await viewer.api.operators.actions.query({ operatorId: mod.operator.id });
    expect(log.map(({ operator, role, action, target, input, outcome, errorCode }) => ({ operator, role, action, target, input, outcome, errorCode }))).toEqual(
      [
        {
          operator: mod.operator.name,
          role: 'moderator',
          action: 'operators.changePassword',
          target: null,
          input: { current: '[removed]', next: '[removed]' },
          outcome: 'ok',
          errorCode: null,
        },
        {
          operator: mod.operator.name,
          role: 'moderator',
          action: 'admin.moderation.decide',
          target: missing,
          input: { reportId: missing, decision: 'dismiss', reason: 'no such report' },
          outcome: 'error',
          errorCode: 'MODERATION_NOT_FOUND',
        },
        {
          operator: mod.operator.name,
          role: 'moderator',
          action: 'admin.moderation.warn',
          target: ann.userId,
          input: { userId: ann.userId, message: 'first warning' },
          outcome: 'ok',
          errorCode: null,
        },
      ],
    );
    expect(JSON.stringify(await viewer.api.operators.actions.query({ limit: 500 }))).not.toContain('another long password');
    expect((await viewer.api.operators.actions.query({ target: ann.userId })).map((a) => a.action)).toEqual(['admin.moderation.warn']);
  });

  it('an action whose record cannot be written is refused and not done', async () => {
    const ann = { userId: 'unaudited-person' };
    const db = app.server.services.database.db;
    await db.execute(sql`alter table operator_actions add constraint no_writes check (false) not valid`);
    try {
      const r = await refusal(moderator.api.admin.moderation.ban.mutate({ userId: ann.userId, durationMs: null, reason: 'unaudited?' }));
      expect(r.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', appCode: 'ACTION_NOT_RECORDED' });
    } finally {
      await db.execute(sql`alter table operator_actions drop constraint no_writes`);
    }
    expect(await banned(ann.userId)).toBe(false);
  });
});

describe('requests from other sites', () => {
  it('an operator mutation whose Origin is another site is refused; the same origin and no Origin are not', async () => {
    await using ann = await connectUser(app.url);
    const warn = (origin?: string) =>
      fetch(`${app.url}/trpc/admin.moderation.warn`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: moderator.cookie, ...(origin ? { origin } : {}) },
        body: JSON.stringify({ userId: ann.userId, message: 'from where?' }),
      });
    const evil = await warn('https://evil.example');
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as { error: { data: { appCode: string } } }).error.data.appCode).toBe('ORIGIN_REFUSED');
    expect(await app.server.services.moderation.history(ann.userId)).toEqual([]);
    expect((await warn(app.url)).status).toBe(200);
    expect((await warn()).status).toBe(200);
    const login = await fetch(`${app.url}/trpc/operators.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ name: viewer.operator.name, password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(403);
    expect(login.headers.getSetCookie()).toEqual([]);
  });
});
