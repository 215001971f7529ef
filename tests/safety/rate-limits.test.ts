/**
 * Rate limits on the real services: each refuses at its threshold with RATE_LIMITED, a wait and a
 * sentence, and lets the caller through again once its window has passed. Skipping past its
 * limit meets a cooldown that doubles with every refusal, up to its maximum.
 */
import { randomUUID } from 'node:crypto';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { matches } from '../../server/match/schema';
import { openRaw } from '../hardening/raw-ws';
import { startTestApp } from '../support/app';
import { ADULT, connectUser, httpClient, type TestUser, refusal } from '../support/client';
import { startRedisServer } from '../support/redis-server';

type Refusal = { appCode: string; details: { action: string; retryAfterMs: number } };

/** The refusal a call met (it must fail). */

/** A chat message (each with its own id, as the client makes them). */
const say = (matchId: string, text: string) => ({ matchId, text, clientMessageId: randomUUID() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rate limits', () => {
  it('new sessions per address: the fourth of three in 3 s is refused with a wait, and allowed after it', async () => {
    await using app = await startTestApp({ RATE_SESSIONS_PER_IP: '3/3s' });
    const api = httpClient(app.url);
    for (let i = 0; i < 3; i++) await api.session.create.mutate({ consent: ADULT });
    const refused = await refusal<Refusal>(api.session.create.mutate({ consent: ADULT }));
    expect(refused.data).toMatchObject({ appCode: 'RATE_LIMITED', details: { action: 'session' } });
    expect(refused.data.details.retryAfterMs).toBeGreaterThan(0);
    expect(refused.data.details.retryAfterMs).toBeLessThanOrEqual(3000);
    expect(refused.message).toMatch(/^You're starting new sessions too fast\. Please wait [1-3] seconds?\.$/);
    await sleep(refused.data.details.retryAfterMs + 50);
    await expect(api.session.create.mutate({ consent: ADULT })).resolves.toMatchObject({ token: expect.any(String) });
  });

  it('with Redis down, each process still limits on its own (the in-memory insurance)', async () => {
    await using redis = await startRedisServer();
    await using app = await startTestApp({ RATE_SESSIONS_PER_IP: '2/3s', REDIS_RECONNECT_MAX_MS: '100' }, { redisUrl: redis.url, prefix: 'rv' });
    await redis.kill('SIGKILL');
    await expect.poll(() => app.server.services.redis.status).not.toBe('ready');
    const api = httpClient(app.url);
    // Each call is counted before it runs: the first two fail on Redis (a session's ban check
    // needs it), the third is refused by the limit, counted in this process's memory.
    for (let i = 0; i < 2; i++) expect((await refusal<Refusal>(api.session.create.mutate({ consent: ADULT }))).data.appCode).toBe('SERVICE_UNAVAILABLE');
    expect((await refusal<Refusal>(api.session.create.mutate({ consent: ADULT }))).data).toMatchObject({
      appCode: 'RATE_LIMITED',
      details: { action: 'session' },
    });
  });

  it('chat per person: past the limit only that person waits, their partner still talks', async () => {
    await using app = await startTestApp({ RATE_CHAT: '3/3s' });
    await using ann = await connectUser(app.url);
    await using bob = await connectUser(app.url);
    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});
    const { matchId } = await ann.next('matched');
    for (let i = 0; i < 3; i++) await ann.api.chat.send.mutate(say(matchId, `hi ${i}`));
    const refused = await refusal<Refusal>(ann.api.chat.send.mutate(say(matchId, 'one too many')));
    expect(refused.data).toMatchObject({ appCode: 'RATE_LIMITED', details: { action: 'chat' } });
    await bob.api.chat.send.mutate(say(matchId, 'I can still talk'));
    await ann.next('chat', (e) => e.text === 'I can still talk');
    await sleep(refused.data.details.retryAfterMs + 50);
    await ann.api.chat.send.mutate(say(matchId, 'and me again'));
    await bob.next('chat', (e) => e.text === 'and me again');
    expect(bob.events.filter((e) => e.event.type === 'chat' && e.event.text === 'one too many')).toEqual([]);
  });

  // Every per-person limit, each on a call that needs no partner to be counted (a call is counted
  // before it runs, whatever it then finds): two pass, the third is refused, and after the window
  // it passes the limit again.
  const PER_PERSON: Array<[string, string, (u: TestUser) => Promise<unknown>]> = [
    [
      'RATE_ENQUEUE',
      'enqueue',
      (u) =>
        u.api.match.cancel
          .mutate({})
          .catch(() => null)
          .then(() => u.api.match.enqueue.mutate({})),
    ],
    ['RATE_CHAT', 'chat', (u) => u.api.chat.send.mutate(say(randomUUID(), 'hello'))],
    ['RATE_TYPING', 'typing', (u) => u.api.chat.typing.mutate({ matchId: randomUUID(), typing: true })],
    ['RATE_MEDIA', 'media', (u) => u.api.signal.media.mutate({ matchId: randomUUID(), audio: true, video: false })],
    ['RATE_STATS', 'stats', (u) => u.api.stats.online.query()],
    ['RATE_SIGNAL', 'signal', (u) => u.api.signal.send.mutate({ matchId: randomUUID(), data: { kind: 'description', description: { type: 'offer' } } })],
    ['RATE_BLOCK', 'block', (u) => u.api.match.block.mutate({ userId: randomUUID() })],
  ];
  it.for(PER_PERSON)('%s: the third call in the window is refused, and the limit lets it through after', async ([setting, action, call]) => {
    await using app = await startTestApp({ [setting]: '2/3s' });
    await using ann = await connectUser(app.url);
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'done',
        (e: unknown) => (e instanceof TRPCClientError ? ((e.data as { appCode?: string } | undefined)?.appCode ?? 'error') : 'error'),
      );
    const first = [await outcome(call(ann)), await outcome(call(ann))];
    expect(first).not.toContain('RATE_LIMITED');
    const refused = await refusal<Refusal>(call(ann));
    expect(refused.data).toMatchObject({ appCode: 'RATE_LIMITED', details: { action } });
    await sleep(refused.data.details.retryAfterMs + 50);
    expect(await outcome(call(ann))).not.toBe('RATE_LIMITED');
  });

  it('RATE_REPORT: reports of the partner, counted like the rest', async () => {
    await using app = await startTestApp({ RATE_REPORT: '2/3s' });
    await using ann = await connectUser(app.url);
    await using bob = await connectUser(app.url);
    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});
    const { matchId } = await ann.next('matched');
    const report = () => ann.api.safety.report.mutate({ matchId, reason: 'spam', block: false });
    // The match in Postgres first, so each call is quick (a report waits for it otherwise).
    await expect.poll(async () => (await app.server.services.database.db.select().from(matches).where(eq(matches.id, matchId))).length).toBe(1);
    await report();
    expect((await refusal<Refusal>(report())).data.appCode).toBe('ALREADY_REPORTED');
    const refused = await refusal<Refusal>(report());
    expect(refused.data).toMatchObject({ appCode: 'RATE_LIMITED', details: { action: 'report' } });
    await sleep(refused.data.details.retryAfterMs + 50);
    expect((await refusal<Refusal>(report())).data.appCode).toBe('ALREADY_REPORTED');
  });

  it('skipping past the limit: a cooldown that doubles with each refusal, up to the maximum', async () => {
    await using app = await startTestApp({ RATE_SKIP: '2/1m', SKIP_COOLDOWN_BASE_MS: '1000', SKIP_COOLDOWN_MAX_MS: '4000' });
    await using ann = await connectUser(app.url);
    // Every skip counts, whatever it finds (here: nobody to skip).
    for (let i = 0; i < 2; i++) expect((await refusal<Refusal>(ann.api.match.skip.mutate({}))).data.appCode).not.toBe('RATE_LIMITED');
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push((await refusal<Refusal>(ann.api.match.skip.mutate({}))).data.details.retryAfterMs);
    expect(waits).toEqual([1000, 2000, 4000, 4000]);
  });

  it('tightLimits: an action costs the factor, never more than its whole allowance; sign-in and chat keep their cost', async () => {
    await using app = await startTestApp({
      SWITCH_TIGHT_FACTOR: '5',
      RATE_ENQUEUE: '10/1m',
      RATE_STATS: '3/1m',
      RATE_CHAT: '3/1m',
      RATE_LOGINS_PER_IP: '3/1m',
      RATE_REPORT: '3/1h',
    });
    await app.server.services.ops.switches.set({ tightLimits: true }, 'operator:test', 'abuse wave');
    await using ann = await connectUser(app.url);
    const codes = async (n: number, call: () => Promise<unknown>) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++)
        out.push(
          await call().then(
            () => 'done',
            (e: unknown) => (e as { data?: { appCode?: string } }).data?.appCode ?? 'error',
          ),
        );
      return out;
    };
    // 10 points at 5 each: two starts, not ten (the factor, not the default 4, sets it).
    const start = () =>
      ann.api.match.cancel
        .mutate({})
        .catch(() => null)
        .then(() => ann.api.match.enqueue.mutate({}));
    expect(await codes(3, start)).toEqual(['done', 'done', 'RATE_LIMITED']);
    // 3 points: the factor would make it impossible; it costs the whole allowance instead.
    expect(await codes(2, () => ann.api.stats.online.query())).toEqual(['done', 'RATE_LIMITED']);
    // In-call actions and the console's sign-in are not tightened.
    const chat = await codes(4, () => ann.api.chat.send.mutate(say(randomUUID(), 'hello')));
    expect(chat.slice(0, 3)).not.toContain('RATE_LIMITED');
    expect(chat[3]).toBe('RATE_LIMITED');
    const login = () => httpClient(app.url).operators.login.mutate({ name: 'nobody', password: 'not the password' });
    expect(await codes(4, login)).toEqual(['LOGIN_FAILED', 'LOGIN_FAILED', 'LOGIN_FAILED', 'RATE_LIMITED']);
    // Nor is what people do to protect themselves: three reports of a three-report allowance.
    const report = () => app.server.services.limits.consume('report', ann.userId);
    expect(await codes(4, report)).toEqual(['done', 'done', 'done', 'error']);
  });

  it('WebSocket connections per address: past the limit a socket is refused with RATE_LIMITED and closed', async () => {
    await using app = await startTestApp({ RATE_CONNECTS_PER_IP: '2/1s' });
    const { token } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    await using a = await openRaw(app.wsUrl, token);
    await using b = await openRaw(app.wsUrl, token);
    await using c = await openRaw(app.wsUrl, token);
    const reply = await c.reply((r) => r.id === null && !!r.error);
    expect(reply.error?.data.appCode).toBe('RATE_LIMITED');
    await c.closed;
    for (const ok of [a, b]) expect(ok.replies.filter((r) => r.error)).toEqual([]);
  });
});
