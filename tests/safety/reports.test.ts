/**
 * Reports on the real services: a person reports the partner they are talking to, with a reason,
 * a note and a frame of the partner's video; the report keeps the match's transcript and times
 * from the audit trail, blocks the partner, and is made once per match. Nobody else may report
 * that match, nor anyone after the window; a frame is forgotten after its retention.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { chatMessages } from '../../server/audit/schema';
import { blocks, matches } from '../../server/match/schema';
import { reports } from '../../server/safety/schema';
import { startTestApp, type TestApp } from '../support/app';
import { connectUser, type TestUser, refusal } from '../support/client';

// The first bytes of a JPEG file and a little more: what the server checks a frame by.
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0xff, 0xd9]);

async function pair(app: TestApp): Promise<{ ann: TestUser; bob: TestUser; matchId: string }> {
  const ann = await connectUser(app.url, { displayName: 'Ann' });
  const bob = await connectUser(app.url, { displayName: 'Bob' });
  await ann.api.match.enqueue.mutate({});
  await bob.api.match.enqueue.mutate({});
  const { matchId } = await ann.next('matched');
  await bob.next('matched');
  return { ann, bob, matchId };
}

const appCode = async (call: Promise<unknown>) => (await refusal(call)).data.appCode;

describe('reports', () => {
  it('keeps the transcript, times and frame as evidence, blocks the partner, and is made once per match', async () => {
    await using app = await startTestApp();
    const { ann, bob, matchId } = await pair(app);
    await using _a = ann;
    await using _b = bob;
    const db = app.server.services.database.db;
    await bob.api.chat.send.mutate({ matchId, text: 'you are an idiot', clientMessageId: randomUUID() });
    await ann.next('chat', (e) => e.from === 'partner');
    // The transcript comes from the audit trail: wait for the drain to have written the message.
    await expect.poll(async () => (await db.select().from(chatMessages).where(eq(chatMessages.matchId, matchId))).length).toBe(1);

    const r = await ann.api.safety.report.mutate({ matchId, reason: 'harassment', note: 'insults', snapshot: JPEG.toString('base64') });
    expect(r.blocked).toBe(true);
    const [row] = await db.select().from(reports).where(eq(reports.id, r.reportId));
    expect(row).toMatchObject({
      reporterId: ann.userId,
      reportedId: bob.userId,
      matchId,
      reason: 'harassment',
      note: 'insults',
      status: 'open',
      snapshotType: 'image/jpeg',
    });
    expect(row!.snapshot).toEqual(JPEG);
    expect(row!.matchStartedAt).toBeInstanceOf(Date);
    expect(row!.transcript).toMatchObject([{ from: bob.userId, to: ann.userId, text: 'you are an idiot' }]);
    expect(await db.select().from(blocks).where(eq(blocks.blockerId, ann.userId))).toMatchObject([{ blockedId: bob.userId }]);

    expect(await appCode(ann.api.safety.report.mutate({ matchId, reason: 'spam' }))).toBe('ALREADY_REPORTED');
    await using carol = await connectUser(app.url);
    expect(await appCode(carol.api.safety.report.mutate({ matchId, reason: 'spam' }))).toBe('REPORT_NOT_ALLOWED');
    expect(await appCode(bob.api.safety.report.mutate({ matchId, reason: 'other', snapshot: Buffer.from('not an image').toString('base64') }))).toBe(
      'INVALID_SNAPSHOT',
    );

    // Past its retention the frame is forgotten; the report stays.
    await db
      .update(reports)
      .set({ snapshotExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(reports.id, r.reportId));
    expect(await app.server.services.reports.expireSnapshots()).toBe(1);
    expect((await db.select().from(reports).where(eq(reports.id, r.reportId)))[0]).toMatchObject({ snapshot: null, reason: 'harassment' });
  });

  it('after the window a finished match can no longer be reported; without blocking, the partner stays unblocked', async () => {
    await using app = await startTestApp({ REPORT_WINDOW_MS: '1500' });
    const { ann, bob, matchId } = await pair(app);
    await using _a = ann;
    await using _b = bob;
    await bob.api.match.end.mutate({ matchId });
    const db = app.server.services.database.db;
    await ann.next('partner_left');
    const r = await ann.api.safety.report.mutate({ matchId, reason: 'spam', block: false });
    expect(r.blocked).toBe(false);
    expect(await db.select().from(blocks).where(eq(blocks.blockerId, ann.userId))).toEqual([]);
    // Once the match's end is in Postgres and the window has passed, it is too late.
    await expect.poll(async () => (await db.select().from(matches).where(eq(matches.id, matchId)))[0]?.endedAt).toBeInstanceOf(Date);
    await new Promise((r) => setTimeout(r, 1600));
    expect(await appCode(bob.api.safety.report.mutate({ matchId, reason: 'spam' }))).toBe('REPORT_NOT_ALLOWED');
  });
});
