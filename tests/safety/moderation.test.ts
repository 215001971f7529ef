/**
 * Moderation on the real services: operators work the report queue most urgent first, ban or
 * dismiss; the reporter sees their report was acted on; the banned person appeals with the
 * receipt their ban gave them, once, and an upheld appeal lets them back.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { operatorClient } from '../support/operators';
import { ADULT, connectUser, httpClient, type TestUser, refusal } from '../support/client';

const adminOf = (app: TestApp) => operatorClient(app, 'moderator');

/** The refusal as this file reads it. */
async function refusalOf(call: Promise<unknown>): Promise<{ appCode?: string; details?: Record<string, unknown> }> {
  return (await refusal(call)).data;
}

/** `reporter` meets `reported` and reports them for `reason` (without blocking: they may meet again). */
async function meetAndReport(reporter: TestUser, reported: TestUser, reason: 'spam' | 'minor' | 'harassment') {
  await reported.api.match.enqueue.mutate({});
  await reporter.api.match.enqueue.mutate({});
  const { matchId } = await reporter.next('matched', (e) => e.partnerId === reported.userId);
  await reporter.api.safety.report.mutate({ matchId, reason, block: false });
  await reporter.api.match.end.mutate({ matchId });
  await reported.next('partner_left', (e) => e.matchId === matchId);
  await reported.api.match.cancel.mutate({});
  return matchId;
}

describe('moderation', () => {
  it('an operator warns a person: they are told at once, and it is in their history', async () => {
    await using app = await startTestApp();
    await using ann = await connectUser(app.url);
    const moderator = await adminOf(app);
    await moderator.admin.moderation.warn.mutate({ userId: ann.userId, message: 'keep it civil' });
    expect(await ann.next('notice')).toMatchObject({ code: 'MODERATOR_WARNING', message: 'A moderator warns you: keep it civil' });
    expect((await moderator.admin.moderation.history.query({ userId: ann.userId })).map((a) => [a.action, a.reason])).toEqual([['warn', 'keep it civil']]);
  });

  it('the queue puts a report that someone looks under 18 first; a ban reaches the reporter, and an upheld appeal lifts it', { timeout: 60_000 }, async () => {
    // No automatic step-up here: operators decide.
    await using app = await startTestApp({ SANCTION_LOW_TRUST_REPORTS: '100', SANCTION_BAN_REPORTS: '100' });
    const admin = await adminOf(app);
    const device = randomUUID();
    const s = await httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: device });
    await using mallory = await connectUser(app.url, { token: s.token, userId: s.userId });
    await using ann = await connectUser(app.url);
    await using bob = await connectUser(app.url);
    await meetAndReport(ann, mallory, 'spam');
    await meetAndReport(bob, mallory, 'minor');

    const queue = await admin.admin.moderation.reports.query({});
    expect(queue.map((r) => [r.reason, r.reporterId])).toEqual([
      ['minor', bob.userId],
      ['spam', ann.userId],
    ]);
    expect(queue[0]!.transcript).toEqual([]);

    await admin.admin.moderation.decide.mutate({ reportId: queue[1]!.id, decision: 'dismiss', reason: 'not spam' });
    const decided = await admin.admin.moderation.decide.mutate({
      reportId: queue[0]!.id,
      decision: 'ban',
      reason: 'under 18 on an adult service',
      durationMs: 3_600_000,
    });
    expect(decided.ban).toMatchObject({ reason: 'under 18 on an adult service', endsAt: expect.any(Number) });
    expect(await refusalOf(admin.admin.moderation.decide.mutate({ reportId: queue[0]!.id, decision: 'dismiss', reason: 'again' }))).toMatchObject({
      appCode: 'MODERATION_NOT_FOUND',
    });
    expect((await bob.api.safety.myReports.query()).map((r) => r.status)).toEqual(['actioned']);
    expect((await ann.api.safety.myReports.query()).map((r) => r.status)).toEqual(['dismissed']);

    const refused = await refusalOf(httpClient(app.url).session.create.mutate({ consent: ADULT, deviceId: device }));
    expect(refused.appCode).toBe('BANNED');
    const receiptId = refused.details!.receiptId as string;
    const api = httpClient(app.url);
    const { appealId } = await api.safety.appeal.mutate({ receiptId, text: 'I am 19, here is why I look young.' });
    expect((await refusalOf(api.safety.appeal.mutate({ receiptId, text: 'Please look again at my case.' }))).appCode).toBe('ALREADY_APPEALED');
    expect((await admin.admin.moderation.appeals.query({})).map((a) => a.id)).toEqual([appealId]);
    await admin.admin.moderation.decideAppeal.mutate({ appealId, upheld: true, reason: 'adult after all' });
    await expect(api.session.create.mutate({ consent: ADULT, deviceId: device })).resolves.toMatchObject({ token: expect.any(String) });
    expect((await admin.admin.moderation.history.query({ userId: s.userId })).map((a) => a.action)).toEqual(['lift', 'ban']);
  });
});
