/**
 * Operator sign-in on a real server: the rdv_op cookie and its attributes, me, logout, one answer
 * for a wrong name and a wrong password, the per-address limit (password changes too), other
 * sessions ended by a password change, hashes instead of secrets, and the first admin created
 * with ADMIN_TOKEN, once, on record.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eq } from 'drizzle-orm';
import { operatorSessions, operators } from '../../server/operators/schema';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';
import { httpClient, refusal } from '../support/client';
import { manualClock } from '../state/fixtures/store';
import { OPERATOR_PASSWORD, cookieClient, createOperator, signIn } from '../support/operators';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ OPERATOR_SESSION_TTL_MS: '3600000' });
});
afterAll(async () => {
  await app?.[Symbol.asyncDispose]();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${app.url}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('signing in and out', () => {
  it('login sets an HttpOnly, SameSite=Strict cookie for the whole site that lasts the session TTL, and me names the operator', async () => {
    const ann = await createOperator(app, 'viewer', 'Ann');
    const { setCookie, cookie, operator } = await signIn(app.url, 'ann');
    expect(operator).toEqual({ id: ann.id, name: 'Ann', role: 'viewer' });
    const attrs = setCookie.split(';').map((a) => a.trim());
    expect(attrs).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/', 'Max-Age=3600']));
    expect(attrs).not.toContain('Secure'); // plain http here
    expect(await cookieClient(app.url, cookie).operators.me.query()).toEqual({ id: ann.id, name: 'Ann', role: 'viewer' });
    expect(await httpClient(app.url).operators.me.query()).toBeNull();
  });

  it('the cookie is Secure when the request came over https, as the trusted proxy says', async () => {
    await using proxied = await startTestApp({ TRUST_PROXY: 'true' });
    await createOperator(proxied, 'viewer', 'bea');
    const res = await fetch(`${proxied.url}/trpc/operators.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' },
      body: JSON.stringify({ name: 'bea', password: OPERATOR_PASSWORD }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()[0]).toMatch(/; Secure$/);
    // Without the proxy's word (TRUST_PROXY off), the same header is ignored.
    await createOperator(app, 'viewer', 'bea');
    const plain = await post('operators.login', { name: 'bea', password: OPERATOR_PASSWORD }, { 'x-forwarded-proto': 'https' });
    expect(plain.headers.getSetCookie()[0]).not.toMatch(/Secure/);
  });

  it('logout ends the session on the server and clears the cookie', async () => {
    await createOperator(app, 'viewer', 'cal');
    const { cookie } = await signIn(app.url, 'cal');
    const res = await post('operators.logout', {}, { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()[0]).toMatch(/^rdv_op=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict/);
    expect(await cookieClient(app.url, cookie).operators.me.query()).toBeNull();
    expect((await refusal(cookieClient(app.url, cookie).admin.counts.query())).data).toMatchObject({ appCode: 'OPERATOR_SIGNED_OUT' });
  });

  it('a session ends when OPERATOR_SESSION_TTL_MS has passed', async () => {
    const clock = manualClock(Date.now());
    await using timed = await startTestApp({ OPERATOR_SESSION_TTL_MS: '60000' }, { clock, background: false });
    await createOperator(timed, 'viewer', 'gus');
    const api = cookieClient(timed.url, (await signIn(timed.url, 'gus')).cookie);
    clock.advance(59_000);
    expect(await api.operators.me.query()).toMatchObject({ name: 'gus' });
    clock.advance(1_000);
    expect(await api.operators.me.query()).toBeNull();
  });

  it('a wrong password and an unknown name get the same answer', async () => {
    await createOperator(app, 'admin', 'dee');
    const wrong = await post('operators.login', { name: 'dee', password: 'not the password at all' });
    const unknown = await post('operators.login', { name: 'nobody-here', password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const body = async (r: Response) => ((await r.json()) as { error: { message: string; data: { appCode: string; code: string } } }).error;
    const [a, b] = [await body(wrong), await body(unknown)];
    expect(a).toEqual(b);
    expect(a).toMatchObject({ message: "That name and password don't match an operator account.", data: { appCode: 'LOGIN_FAILED' } });
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it('names are case-insensitive and unique whatever their case', async () => {
    await createOperator(app, 'viewer', 'Eve');
    await expect(createOperator(app, 'viewer', 'EVE')).rejects.toMatchObject({ code: 'OPERATOR_NAME_TAKEN' });
    expect((await signIn(app.url, 'eVe')).operator.name).toBe('Eve');
  });

  it('sign-ins are limited per address', async () => {
    await using limited = await startTestApp({ RATE_LOGINS_PER_IP: '3/1m' });
    for (let i = 0; i < 3; i++)
      expect((await refusal(httpClient(limited.url).operators.login.mutate({ name: 'x', password: 'guess' }))).data.appCode).toBe('LOGIN_FAILED');
    expect((await refusal(httpClient(limited.url).operators.login.mutate({ name: 'x', password: 'guess' }))).data.appCode).toBe('RATE_LIMITED');
  });

  it("changing one's password ends one's other sessions and keeps this one", async () => {
    const gus = await createOperator(app, 'viewer', 'gus');
    const here = await signIn(app.url, 'gus');
    const there = await signIn(app.url, 'gus');
    await cookieClient(app.url, here.cookie).operators.changePassword.mutate({ current: OPERATOR_PASSWORD, next: 'a brand new password' });
    expect(await cookieClient(app.url, here.cookie).operators.me.query()).toMatchObject({ id: gus.id });
    expect(await cookieClient(app.url, there.cookie).operators.me.query()).toBeNull();
  });

  it('password changes share the sign-in limit per address', async () => {
    await using limited = await startTestApp({ RATE_LOGINS_PER_IP: '3/1m' });
    await createOperator(limited, 'viewer', 'hal');
    const { cookie } = await signIn(limited.url, 'hal');
    const change = () => cookieClient(limited.url, cookie).operators.changePassword.mutate({ current: 'a guess', next: 'a brand new password' });
    expect((await refusal(change())).data.appCode).toBe('WRONG_PASSWORD');
    expect((await refusal(change())).data.appCode).toBe('WRONG_PASSWORD');
    expect((await refusal(change())).data.appCode).toBe('RATE_LIMITED');
  });

  it('stores an argon2id hash of the password and a sha256 of the session token, never either secret', async () => {
    const fay = await createOperator(app, 'viewer', 'fay');
    const { cookie } = await signIn(app.url, 'fay');
    const db = app.server.services.database.db;
    const [row] = await db.select().from(operators).where(eq(operators.id, fay.id));
    expect(row!.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row!.passwordHash).not.toContain(OPERATOR_PASSWORD);
    const token = cookie.slice('rdv_op='.length);
    const sessions = await db.select().from(operatorSessions).where(eq(operatorSessions.operatorId, fay.id));
    expect(sessions.map((s) => s.tokenHash)).toEqual([createHash('sha256').update(token).digest('hex')]);
  });
});

describe('the first admin', () => {
  it('is created only with the admin token, and only once', async () => {
    await using fresh = await startTestApp();
    const boot = (headers: Record<string, string>, name: string) =>
      fetch(`${fresh.url}/trpc/operators.bootstrap`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name, password: OPERATOR_PASSWORD }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { result?: { data: unknown }; error?: { data: { appCode: string } } } }));
    expect(await boot({}, 'root')).toMatchObject({ status: 401, body: { error: { data: { appCode: 'ADMIN_TOKEN_REQUIRED' } } } });
    expect(await boot({ 'x-admin-token': `${ADMIN_TOKEN}x` }, 'root')).toMatchObject({
      status: 401,
      body: { error: { data: { appCode: 'ADMIN_TOKEN_REQUIRED' } } },
    });
    expect(await boot({ 'x-admin-token': ADMIN_TOKEN }, 'root')).toMatchObject({ status: 200, body: { result: { data: { name: 'root', role: 'admin' } } } });
    expect(await boot({ 'x-admin-token': ADMIN_TOKEN }, 'root2')).toMatchObject({ status: 409, body: { error: { data: { appCode: 'BOOTSTRAP_CLOSED' } } } });
    const { cookie } = await signIn(fresh.url, 'root');
    expect((await cookieClient(fresh.url, cookie).operators.list.query()).map((o) => o.name)).toEqual(['root']);
    // On record like any operator action, as done by the admin it made.
    expect(await cookieClient(fresh.url, cookie).operators.actions.query()).toEqual([
      expect.objectContaining({ action: 'operators.bootstrap', operator: 'root', role: 'admin', input: { name: 'root' }, outcome: 'ok' }),
    ]);
  });

  it('a bootstrap waits for one in progress, then sees its admin', async () => {
    await using fresh = await startTestApp();
    // Another process's bootstrap, holding the lock while it creates its admin.
    const other = new pg.Client({ connectionString: fresh.databaseUrl });
    await other.connect();
    try {
      await other.query('begin');
      await other.query("select pg_advisory_xact_lock(hashtext('rendezvous:operators:bootstrap'))");
      const mine = fresh.server.services.operators.bootstrap('mine', OPERATOR_PASSWORD);
      const waiting = async () =>
        (await other.query<{ n: number }>("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted")).rows[0]!.n;
      await vi.waitFor(async () => expect(await waiting()).toBe(1), { timeout: 5000, interval: 20 });
      await other.query("insert into operators (name, password_hash, role, created_at) values ('theirs', 'x', 'admin', now())");
      await other.query('commit');
      await expect(mine).rejects.toMatchObject({ code: 'BOOTSTRAP_CLOSED' });
    } finally {
      await other.end();
    }
    expect((await fresh.server.services.operators.list()).map((o) => o.name)).toEqual(['theirs']);
  });
});
