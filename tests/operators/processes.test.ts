/**
 * Operator sessions live in Postgres: two server processes on one database and Redis see a
 * sign-in, and a disable, at once (no cache to wait out).
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { operatorSessions } from '../../server/operators/schema';
import { tokenHash } from '../../server/operators/service';
import { startTestApp } from '../support/app';
import { refusal } from '../support/client';
import { cookieClient, operatorSession } from '../support/operators';

describe('operators over two server processes', () => {
  it("a session made on one process works on the other, and a disabled operator's session dies at once on both", async () => {
    await using a = await startTestApp();
    await using b = await startTestApp({}, { databaseUrl: a.databaseUrl, redisUrl: a.redisUrl, prefix: a.prefix });
    const mod = await operatorSession(a, 'moderator');
    const admin = await operatorSession(b, 'admin');
    const onB = cookieClient(b.url, mod.cookie);
    expect(await onB.operators.me.query()).toEqual(mod.operator);
    expect(await onB.admin.counts.query()).toMatchObject({ IDLE: expect.any(Number) });

    await admin.api.operators.update.mutate({ id: mod.operator.id, disabled: true });
    // Its sessions are deleted, not only refused.
    const sessions = await a.server.services.database.db.select().from(operatorSessions).where(eq(operatorSessions.operatorId, mod.operator.id));
    expect(sessions).toEqual([]);

    for (const api of [mod.api, onB]) {
      expect(await api.operators.me.query()).toBeNull();
      expect((await refusal(api.admin.moderation.warn.mutate({ userId: 'anyone', message: 'still here?' }))).data).toMatchObject({
        appCode: 'OPERATOR_SIGNED_OUT',
      });
    }
    expect(await a.server.services.moderation.history('anyone')).toEqual([]);

    // A sign-in that read the account just before the disable and wrote its session just after: refused too.
    const late = 'late-session-token';
    await a.server.services.database.db
      .insert(operatorSessions)
      .values({ tokenHash: tokenHash(late), operatorId: mod.operator.id, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) });
    expect(await cookieClient(b.url, `rdv_op=${late}`).operators.me.query()).toBeNull();
  });
});
