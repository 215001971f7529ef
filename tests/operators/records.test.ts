/**
 * What the console leaves on record: an operator's disconnect names the operator in the person's
 * audit trail, reading a person's data is an entry in the action log like any action, and the
 * log itself is kept as long as the audit trail.
 */
import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { stateTransitions } from '../../server/audit/schema';
import { loadConfig } from '../../server/config';
import { createMetrics } from '../../server/infra/metrics';
import { operatorActions } from '../../server/operators/schema';
import { auditRetention } from '../../server/parts';
import { openTestDb, silent } from '../audit/support';
import { startTestApp } from '../support/app';
import { connectUser, matchedPair } from '../support/client';
import { operatorSession } from '../support/operators';

const DAY = 86_400_000;

describe('operator records', () => {
  it('a disconnect is audited as done by operator:<name>, in a call and while waiting', async () => {
    await using app = await startTestApp();
    const mod = await operatorSession(app, 'moderator');
    await using c = await connectUser(app.url);
    await c.api.match.enqueue.mutate({});
    await mod.api.admin.disconnect.mutate({ userId: c.userId, reason: 'spam' });
    const { a, b, matchId } = await matchedPair(app.url, { joined: true });
    await mod.api.admin.disconnect.mutate({ userId: a.userId, reason: 'rule breach' });
    const db = app.server.services.database.db;
    const actor = `operator:${mod.operator.name}`;
    await expect
      .poll(async () =>
        (
          await db
            .select()
            .from(stateTransitions)
            .where(and(eq(stateTransitions.userId, a.userId), eq(stateTransitions.matchId, matchId)))
        ).map((r) => [r.toState, r.actor]),
      )
      .toContainEqual(['DISCONNECTING', actor]);
    await expect
      .poll(async () => (await db.select().from(stateTransitions).where(eq(stateTransitions.userId, c.userId))).map((r) => [r.toState, r.actor]))
      .toContainEqual(['IDLE', actor]);
    // The operator's words are with the action itself.
    const log = await mod.api.operators.actions.query({ target: a.userId });
    expect(log).toEqual([
      expect.objectContaining({ action: 'admin.disconnect', operator: mod.operator.name, input: { userId: a.userId, reason: 'rule breach' }, outcome: 'ok' }),
    ]);
    await a.close();
    await b.close();
  });

  it("reading a person's data is recorded, once per operator, procedure and input in the window (exports every time); other reads are not", async () => {
    await using app = await startTestApp();
    const admin = await operatorSession(app, 'admin');
    await using u = await connectUser(app.url);
    await u.api.match.enqueue.mutate({});
    await admin.api.admin.userDetail.query({ userId: u.userId });
    await admin.api.admin.userDetail.query({ userId: u.userId });
    await admin.api.admin.privacy.export.query({ userId: u.userId });
    await admin.api.admin.privacy.export.query({ userId: u.userId });
    await admin.api.admin.audit.user.query({ userId: u.userId });
    await admin.api.admin.audit.user.query({ userId: u.userId, limit: 10 });
    await admin.api.admin.moderation.history.query({ userId: u.userId });
    await admin.api.admin.lookup.query({ query: u.userId });
    await admin.api.admin.overview.query();
    const log = await admin.api.operators.actions.query({ operatorId: admin.operator.id });
    expect(log.map((r) => [r.action, r.target, r.outcome]).sort()).toEqual(
      [
        ['admin.audit.user', u.userId, 'ok'],
        // Another input is another read; every download of everything is recorded.
        ['admin.audit.user', u.userId, 'ok'],
        ['admin.lookup', null, 'ok'],
        ['admin.moderation.history', u.userId, 'ok'],
        ['admin.privacy.export', u.userId, 'ok'],
        ['admin.privacy.export', u.userId, 'ok'],
        ['admin.userDetail', u.userId, 'ok'],
      ].sort(),
    );
  });

  it('a read of a person that cannot be recorded is refused', async () => {
    await using app = await startTestApp();
    const admin = await operatorSession(app, 'admin');
    const actions = app.server.services.operatorActions;
    actions.beginRead = () => Promise.reject(new Error('postgres away'));
    await expect(admin.api.admin.privacy.export.query({ userId: 'someone' })).rejects.toMatchObject({ data: { appCode: 'ACTION_NOT_RECORDED' } });
    await expect(admin.api.admin.overview.query()).resolves.toBeTruthy();
  });
});

describe('operator action log retention', () => {
  it('the audit retention job deletes action rows older than AUDIT_RETENTION_DAYS and keeps the rest', async () => {
    await using db = await openTestDb('postgres');
    const now = Date.parse('2027-05-20T12:00:00Z');
    const row = (id: string, daysAgo: number) => ({
      id,
      at: new Date(now - daysAgo * DAY),
      operatorId: randomUUID(),
      operatorName: 'ann',
      role: 'admin' as const,
      action: 'admin.moderation.ban',
      outcome: 'ok' as const,
    });
    const [old, recent] = [randomUUID(), randomUUID()];
    await db.database.db.insert(operatorActions).values([row(old, 11), row(recent, 9)]);
    const cfg = loadConfig({ AUDIT_RETENTION_DAYS: '10' });
    const job = auditRetention(cfg, db.database, silent, { now: () => now }, createMetrics());
    const report = await job.runOnce();
    expect(report.actionsExpired).toBe(1);
    expect((await db.database.db.select({ id: operatorActions.id }).from(operatorActions)).map((r) => r.id)).toEqual([recent]);
  });
});
