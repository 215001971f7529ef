import { eq, or } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { scanKeys } from '../../server/infra/redis';
import { moderationActions, reports } from '../../server/safety/schema';
import { startTestApp } from '../support/app';
import { connectUser, matchedPair, refusal } from '../support/client';
import { consoleClient } from './support';

const FAST = { SWITCHES_POLL_MS: '100', OVERVIEW_INTERVAL_MS: '100' };

/** The operator log without the exports themselves (reading a person's data may be logged too). */
const acted = <T extends { action: string }>(rows: T[]) => rows.filter((x) => x.action !== 'admin.privacy.export');

describe('operator console: privacy requests', () => {
  it("export holds the person's chat; erase removes it, forgets the name and pseudonymises the audit trail", async () => {
    await using app = await startTestApp(FAST);
    const ops = await consoleClient(app);
    const { store, redis } = app.server.services;
    const { a, b, matchId } = await matchedPair(app.url, { joined: true });
    await a.api.chat.send.mutate({ matchId, text: 'my secret words', clientMessageId: 'msg-0001' });
    await ops.moderation.warn.mutate({ userId: a.userId, message: 'Please keep it friendly.' });
    expect(acted((await ops.privacy.export.query({ userId: a.userId })).operatorActions).map((x) => x.action)).toEqual(['admin.moderation.warn']);
    await vi.waitFor(
      async () => {
        const e = await ops.privacy.export.query({ userId: a.userId });
        expect(e.chatMessages.map((m) => m.text)).toContain('my secret words');
        expect(e.transitions.length).toBeGreaterThan(0);
      },
      { timeout: 5000 },
    );
    // In a call: their records are still being written, so the erase is refused and nothing changes.
    const busy = await refusal(ops.privacy.erase.mutate({ userId: a.userId, reason: 'person asked' }));
    expect(busy.data.appCode).toBe('PERSON_ACTIVE');
    expect(busy.message).toBe('End their match or disconnect them first.');
    expect((await ops.privacy.export.query({ userId: a.userId })).chatMessages).toHaveLength(1);

    await ops.disconnect.mutate({ userId: a.userId, reason: 'privacy request' });
    expect(await redis.exists(store.keys.events('global', a.userId))).toBe(1);
    const r = await ops.privacy.erase.mutate({ userId: a.userId, reason: 'person asked' });
    expect(r.pseudonym).toMatch(/^erased:/);
    expect(r.removed.chat_messages).toBe(1);
    expect(await redis.exists(store.keys.events('global', a.userId), store.keys.eventBytes('global', a.userId))).toBe(0);
    const after = await ops.privacy.export.query({ userId: a.userId });
    expect(after.chatMessages).toEqual([]);
    expect(after.transitions).toEqual([]);
    expect(acted(after.operatorActions)).toEqual([]);
    const kept = await ops.privacy.export.query({ userId: r.pseudonym });
    expect(kept.transitions.length).toBeGreaterThan(0);
    // What operators did (the warning, the refused erase, the disconnect, the erase) stays in their log, about the pseudonym only.
    expect(
      acted(kept.operatorActions)
        .map((x) => [x.action, x.outcome, JSON.stringify(x.input).includes(a.userId)])
        .sort(),
    ).toEqual([
      ['admin.disconnect', 'ok', false],
      ['admin.moderation.warn', 'ok', false],
      ['admin.privacy.erase', 'error', false],
      ['admin.privacy.erase', 'ok', false],
    ]);
    expect(await ops.lookup.query({ query: 'Ann' })).not.toContainEqual(expect.objectContaining({ userId: a.userId }));
    await a.close();
    await b.close();
  });

  it('an export names nobody else: not a partner, a reporter, a blocker, nor what a reporter wrote', async () => {
    await using app = await startTestApp(FAST);
    const ops = await consoleClient(app);
    const { a, b, matchId } = await matchedPair(app.url, { joined: true });
    await a.api.chat.send.mutate({ matchId, text: 'hello from ann', clientMessageId: 'msg-0001' });
    await b.api.chat.send.mutate({ matchId, text: 'hello from bob', clientMessageId: 'msg-0002' });
    await vi.waitFor(async () => expect((await ops.privacy.export.query({ userId: a.userId })).chatMessages).toHaveLength(2), { timeout: 5000 });
    // Both report each other (the transcripts hold both sides), and Bob blocks Ann.
    await a.api.safety.report.mutate({ matchId, reason: 'spam', note: 'ann wrote this', block: false });
    await b.api.safety.report.mutate({ matchId, reason: 'harassment', note: 'bob wrote this', block: true });
    await vi.waitFor(
      async () => {
        const e = await ops.privacy.export.query({ userId: b.userId });
        expect(e.blocks).toHaveLength(1);
        expect(e.reportsBy[0]?.transcript).toHaveLength(2);
      },
      { timeout: 5000 },
    );

    const e = await ops.privacy.export.query({ userId: a.userId });
    const json = JSON.stringify(e);
    expect(json).not.toContain(b.userId);
    expect(json).not.toContain('bob wrote this');
    expect(e.blocks).toEqual([]); // Bob's block of Ann is Bob's
    expect(e.reportsAbout).toHaveLength(1);
    expect(e.reportsAbout[0]).not.toHaveProperty('note');
    expect(e.reportsAbout[0]).not.toHaveProperty('matchId');
    expect(e.reportsAbout[0]?.transcript).toEqual([expect.objectContaining({ from: a.userId, to: 'partner', text: 'hello from ann' })]);
    expect(e.reportsBy).toEqual([expect.objectContaining({ note: 'ann wrote this', reportedId: 'partner', snapshotAttached: false })]);
    // Ann's own chat stays whole (what was said to her too), with Bob as "partner".
    expect(e.chatMessages.map((m) => [m.fromUser, m.toUser, m.text]).sort()).toEqual([
      [a.userId, 'partner', 'hello from ann'],
      ['partner', a.userId, 'hello from bob'],
    ]);
    expect(e.matches).toEqual([expect.objectContaining({ id: matchId })]);
    expect([e.matches[0]?.userA, e.matches[0]?.userB].sort()).toEqual([a.userId, 'partner'].sort());
    await a.close();
    await b.close();
  });

  it('an export names the operator who ended a match; erase takes the blocks the person made out of Redis too', async () => {
    await using app = await startTestApp(FAST);
    const ops = await consoleClient(app);
    const { store, redis } = app.server.services;
    const { a, b, matchId } = await matchedPair(app.url, { joined: true });
    await ops.endMatch.mutate({ matchId, reason: 'rule breach' });
    await vi.waitFor(async () => expect((await ops.privacy.export.query({ userId: a.userId })).matches[0]?.endedBy).toMatch(/^operator:/), {
      timeout: 5000,
    });
    await a.api.match.block.mutate({ userId: b.userId });
    await b.api.match.block.mutate({ userId: a.userId });
    expect(await redis.sismember(store.keys.blocksOf(a.userId), b.userId)).toBe(1);
    await ops.privacy.erase.mutate({ userId: a.userId, reason: 'person asked' });
    // Ann's block of Bob is gone everywhere; Bob's block of Ann is Bob's, and still keeps her away.
    expect(await redis.smembers(store.keys.blocksOf(a.userId))).toEqual([]);
    expect(await redis.sismember(store.keys.blockedBy(b.userId), a.userId)).toBe(0);
    expect(await redis.sismember(store.keys.blocksOf(b.userId), a.userId)).toBe(1);
    await a.close();
    await b.close();
  });

  it("erase takes the person's words out of report transcripts, in reports by them and about them", async () => {
    await using app = await startTestApp(FAST);
    const ops = await consoleClient(app);
    const db = app.server.services.database.db;
    const { a, b, matchId } = await matchedPair(app.url, { joined: true });
    await a.api.chat.send.mutate({ matchId, text: 'ann says this', clientMessageId: 'msg-0001' });
    await b.api.chat.send.mutate({ matchId, text: 'bob says that', clientMessageId: 'msg-0002' });
    await vi.waitFor(async () => expect((await ops.privacy.export.query({ userId: a.userId })).chatMessages).toHaveLength(2), { timeout: 5000 });
    await a.api.safety.report.mutate({ matchId, reason: 'spam', block: false });
    await b.api.safety.report.mutate({ matchId, reason: 'spam', block: false });
    await ops.disconnect.mutate({ userId: a.userId, reason: 'privacy request' });

    const r = await ops.privacy.erase.mutate({ userId: a.userId, reason: 'person asked' });
    expect(r.removed.report_transcripts).toBe(2);
    const rows = await db.select().from(reports).where(eq(reports.matchId, matchId));
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const text = JSON.stringify(row);
      expect(text).not.toContain(a.userId);
      expect(text).not.toContain('ann says this');
      expect(text).toContain('bob says that'); // the other side of the evidence stays
      expect(text).toContain(r.pseudonym);
    }
    await a.close();
    await b.close();
  });

  it('a ban outlives an erase and a Redis restart: moderation_actions keep the real id, the rest is pseudonymised', async () => {
    await using app = await startTestApp(FAST);
    const ops = await consoleClient(app);
    const { sanctions, redis, database } = app.server.services;
    await using a = await connectUser(app.url);
    await ops.moderation.ban.mutate({ userId: a.userId, durationMs: 3_600_000, reason: 'spam, by hand' });
    const r = await ops.privacy.erase.mutate({ userId: a.userId, reason: 'person asked' });

    const actions = await database.db
      .select()
      .from(moderationActions)
      .where(or(eq(moderationActions.userId, a.userId), eq(moderationActions.userId, r.pseudonym)));
    expect(actions.map((x) => [x.action, x.userId])).toEqual([['ban', a.userId]]);
    // The operator log of the ban is about the pseudonym, like every other record that stays.
    expect(
      acted((await ops.privacy.export.query({ userId: r.pseudonym })).operatorActions)
        .map((x) => x.action)
        .sort(),
    ).toEqual(['admin.moderation.ban', 'admin.privacy.erase']);
    // Redis loses everything of this deployment; the ban comes back for the real id.
    for await (const keys of scanKeys(redis, `${app.prefix}:*`, 1000)) for (const k of keys) await redis.del(k);
    expect(await sanctions.isBanned(a.userId)).toBe(false);
    expect(await sanctions.restore()).toBe(1);
    expect(await sanctions.isBanned(a.userId)).toBe(true);
  });
});
