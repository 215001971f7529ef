/**
 * Step-up sanctions on the real services: reports about one person from distinct reporters put
 * her on low trust (pools of her own), then ban her. The ban ends her current match at once (her
 * partner is told and re-queued), ends her session, and refuses new sessions from her device and
 * her address with a ban receipt; an operator's lift lets her back.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scanKeys } from '../../server/infra/redis';
import { moderationActions } from '../../server/safety/schema';
import { startTestApp } from '../support/app';
import { operatorClient } from '../support/operators';
import { ADULT, connectUser, httpClient, type TestUser, refusal } from '../support/client';

/** The refusal as this file reads it. */
async function refusalOf(call: Promise<unknown>): Promise<{ appCode?: string; message: string; details?: Record<string, unknown> }> {
  const { message, data } = await refusal(call);
  return { appCode: data.appCode, message, details: data.details };
}

describe('step-up sanctions', () => {
  it(
    'two reporters: low trust; a third: banned, the match ended, the session over, her device and address refused, until lifted',
    { timeout: 60_000 },
    async () => {
      await using app = await startTestApp();
      const { store, database } = app.server.services;
      const device = randomUUID();
      const s = await httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: device, displayName: 'Mallory' });
      const mallory = await connectUser(app.url, { token: s.token, userId: s.userId });
      const reporters: TestUser[] = [];
      const matchIds: string[] = [];
      try {
        // She talks to three people in turn; the third is still talking to her when the reports come.
        for (let i = 0; i < 3; i++) {
          const r = await connectUser(app.url, { displayName: `R${i}` });
          reporters.push(r);
          await mallory.api.match.enqueue.mutate({});
          await r.api.match.enqueue.mutate({});
          const { matchId } = await r.next('matched');
          matchIds.push(matchId);
          if (i < 2) {
            await mallory.api.match.end.mutate({ matchId });
            await r.next('partner_left');
            await r.api.match.cancel.mutate({});
          }
        }
        await reporters[0]!.api.safety.report.mutate({ matchId: matchIds[0]!, reason: 'harassment' });
        expect(await store.isRevoked(s.userId)).toBe(false);
        await reporters[1]!.api.safety.report.mutate({ matchId: matchIds[1]!, reason: 'sexual' });
        expect(await app.server.services.sanctions.isLowTrust(s.userId)).toBe(true);

        await reporters[2]!.api.safety.report.mutate({ matchId: matchIds[2]!, reason: 'harassment' });
        await reporters[2]!.next('partner_left');
        expect(await store.isRevoked(s.userId)).toBe(true);
        expect((await store.getUser(reporters[2]!.userId)).state).toBe('WAITING');

        const refused = await refusalOf(httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: device }));
        expect(refused.appCode).toBe('BANNED');
        expect(refused.message).toMatch(
          /^You can't use Rendezvous until \d{4}-\d\d-\d\d \d\d:\d\d UTC: reported by 3 people\. .*appeal with receipt [0-9a-f-]{36}\.$/,
        );
        // Another device on the same address: refused too (the address is banned, by its keyed hash).
        expect((await refusalOf(httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: randomUUID() }))).appCode).toBe('BANNED');

        const actions = await database.db.select().from(moderationActions).where(eq(moderationActions.userId, s.userId));
        expect(actions.map((a) => [a.action, a.actor])).toEqual([
          ['low_trust', 'auto'],
          ['ban', 'auto'],
        ]);
        expect(actions[1]).toMatchObject({ deviceId: device, ipKey: expect.any(String) });
        expect(JSON.stringify(actions)).not.toContain('127.0.0.1');

        const moderator = await operatorClient(app, 'moderator');
        await moderator.admin.moderation.lift.mutate({ userId: s.userId, reason: 'appeal upheld' });
        await expect(httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: device })).resolves.toMatchObject({ token: expect.any(String) });
      } finally {
        await Promise.resolve(mallory[Symbol.asyncDispose]()).catch(() => undefined);
        for (const r of reporters) await r[Symbol.asyncDispose]();
      }
    },
  );

  it('bans and low trust in force come back from Postgres after Redis lost them; a lifted ban does not', async () => {
    await using app = await startTestApp();
    const { sanctions, redis } = app.server.services;
    const kept = randomUUID();
    const lifted = randomUUID();
    const keptSession = await httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: kept });
    const liftedSession = await httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: lifted });
    await sanctions.ban(keptSession.userId, 3_600_000, 'spam', 'admin:test');
    await sanctions.ban(liftedSession.userId, null, 'spam', 'admin:test');
    await sanctions.lift(liftedSession.userId, 'mistake', 'admin:test');
    // Redis loses everything of this deployment (its keys are under the app's prefix).
    for await (const keys of scanKeys(redis, `${app.prefix}:*`, 1000)) for (const k of keys) await redis.del(k);
    expect(await sanctions.isBanned(keptSession.userId)).toBe(false);

    expect(await sanctions.restore()).toBe(1);
    expect(await sanctions.isBanned(keptSession.userId)).toBe(true);
    expect(await sanctions.isBanned(liftedSession.userId)).toBe(false);
    expect((await refusalOf(httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: kept }))).appCode).toBe('BANNED');
    expect(await redis.pttl(`${app.prefix}:ban:u:${keptSession.userId}`)).toBeGreaterThan(3_500_000);
    expect(await sanctions.restore()).toBe(0); // done once per loss
  });

  it('a person on low trust is matched only with others on low trust', async () => {
    await using app = await startTestApp({ SANCTION_LOW_TRUST_REPORTS: '1' });
    const { sanctions, store } = app.server.services;
    await using low = await connectUser(app.url);
    await using other = await connectUser(app.url);
    await using normal = await connectUser(app.url);
    await low.api.match.enqueue.mutate({});
    await other.api.match.enqueue.mutate({});
    const { matchId } = await other.next('matched');
    await other.api.safety.report.mutate({ matchId, reason: 'spam', block: false });
    expect(await sanctions.isLowTrust(low.userId)).toBe(true);
    await low.api.match.end.mutate({ matchId });
    await other.api.match.cancel.mutate({});

    await low.api.match.enqueue.mutate({});
    await normal.api.match.enqueue.mutate({});
    expect(await store.poolOf(low.userId)).toBe('lt-global');
    await new Promise((r) => setTimeout(r, 300));
    expect((await store.getUser(normal.userId)).state).toBe('WAITING');
    expect((await store.getUser(low.userId)).state).toBe('WAITING');
  });
});
