/**
 * Browser end-to-end: Debian Chromium (headless, fake camera and microphone) drives the built
 * client served by a real server (shared set-up in ./support). Screenshots are kept under test-results/.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { blocks } from '../../server/match/schema';
import { appeals, reports } from '../../server/safety/schema';
import { startTestApp } from '../support/app';
import { ADULT, connectUser, httpClient } from '../support/client';
import { useBrowser } from './support/browser';
import { expectVideoPlaying, startAndMatch, storedSession } from './support/call';
import { screenshot } from './support/screenshots';

// Pictures taken on the way, for a person looking into a failure (docs/screenshots holds the reviewed ones).
const SHOTS = 'test-results';
const shot = (page: Page, name: string) => screenshot(page, name, SHOTS);

const { person: openPerson, page: openPage } = useBrowser();

describe('the web client in Chromium', () => {
  it('two people press Start, get matched, and a message typed by one appears for the other', async () => {
    await using app = await startTestApp();
    const ann = await openPerson(app, 'Ann');
    const bob = await openPerson(app, 'Bob');
    await startAndMatch(ann, bob);
    await ann.getByTestId('chat-input').fill('hello from Ann');
    await ann.getByTestId('send').click();
    await bob.getByTestId('message').filter({ hasText: 'hello from Ann' }).waitFor();
    await shot(ann, 'chat-ann');
    await shot(bob, 'chat-bob');

    await bob.getByTestId('end').click();
    await bob.getByTestId('screen-landing').waitFor();
    await ann.getByTestId('notice').waitFor();
    await ann.getByTestId('screen-waiting').waitFor();
    await ann.context().close();
    await bob.context().close();
  }, 60_000);

  it('Start asks for an age and the rules first; an under-13 answer is refused in plain words and nobody is queued', async () => {
    await using app = await startTestApp();
    const page = await openPage(app);
    await page.getByTestId('start').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Please tell us your age and accept the rules');
    await page.getByLabel('Under 13').check();
    await page.getByLabel(/I accept the rules/).check();
    await shot(page, 'age-question');
    await page.getByTestId('start').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Rendezvous is for adults (18 and over).');
    expect(await page.getByTestId('screen-landing').isVisible()).toBe(true);
    await page.context().close();
  }, 60_000);

  it('in direct mode each page shows the other person’s video playing', async () => {
    await using app = await startTestApp();
    const ann = await openPerson(app, 'Ann');
    const bob = await openPerson(app, 'Bob');
    await startAndMatch(ann, bob);
    await expectVideoPlaying(ann, 'remote-video');
    await expectVideoPlaying(bob, 'remote-video');
    await shot(ann, 'video-ann');
    await shot(bob, 'video-bob');
    await ann.context().close();
    await bob.context().close();
  }, 60_000);

  it('a person reports their partner with a picture of their video: the report and the block are recorded, and they move on', async () => {
    await using app = await startTestApp();
    const ann = await openPerson(app, 'Ann');
    const bob = await openPerson(app, 'Bob');
    await startAndMatch(ann, bob);
    await expectVideoPlaying(ann, 'remote-video');
    await ann.getByTestId('report').click();
    await ann.getByLabel('Harassment or hate').check();
    await ann.getByLabel(/Anything to add/).fill('rude from the start');
    await ann.getByLabel(/Attach a picture/).check();
    await shot(ann, 'report-panel');
    await ann.getByTestId('report-send').click();
    await expect.poll(() => ann.getByTestId('notice').textContent()).toContain("Thank you for your report. We've blocked them");
    await ann.getByTestId('screen-waiting').waitFor();

    const db = app.server.services.database.db;
    const [row] = await db.select().from(reports);
    expect(row).toMatchObject({ reason: 'harassment', note: 'rude from the start', snapshotType: 'image/jpeg' });
    expect(row!.snapshot!.length).toBeGreaterThan(1000);
    expect(await db.select().from(blocks).where(eq(blocks.blockerId, row!.reporterId))).toMatchObject([{ blockedId: row!.reportedId }]);
    await ann.context().close();
    await bob.context().close();
  }, 60_000);

  it('with the camera denied, a person still chats by text and is told why there is no video', async () => {
    await using app = await startTestApp();
    const ann = await openPerson(app, 'Ann', { denyCamera: true });
    const bob = await openPerson(app, 'Bob');
    await startAndMatch(ann, bob);
    await ann
      .getByText(/camera/i)
      .first()
      .waitFor();
    await ann.getByTestId('chat-input').fill('text only works');
    await ann.getByTestId('send').click();
    await bob.getByTestId('message').filter({ hasText: 'text only works' }).waitFor();
    await shot(ann, 'camera-denied-ann');
    await ann.context().close();
    await bob.context().close();
  }, 60_000);

  it('a banned person sees their ban receipt, with the reason and when it ends, and sends an appeal', async () => {
    await using app = await startTestApp();
    const page = await openPerson(app, 'Mallory');
    await page.getByTestId('start').click();
    await page.getByTestId('screen-waiting').waitFor();
    const { userId } = await storedSession(page);
    const receipt = await app.server.services.sanctions.ban(userId, 86_400_000, 'harassment of other people', 'admin:test');
    // The ban ends the session; a new one from this device is refused with the receipt.
    await page.getByTestId('screen-ban').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('ban-reason').textContent()).toContain('harassment of other people');
    expect(await page.getByTestId('ban-receipt').textContent()).toBe(receipt.receiptId);
    expect(await page.getByRole('heading').textContent()).toMatch(/^You can't use Rendezvous until /);
    await page.getByTestId('appeal-text').fill('I was not harassing anyone, I only said hello.');
    await shot(page, 'ban-receipt');
    await page.getByTestId('appeal-send').click();
    await expect.poll(() => page.getByTestId('appeal-sent').textContent()).toContain('Your appeal was sent');
    const rows = await app.server.services.database.db.select().from(appeals);
    expect(rows).toMatchObject([{ text: 'I was not harassing anyone, I only said hello.' }]);
    await page.context().close();
  }, 60_000);

  it('asked for a proof of work, the browser solves it out of sight and the person starts as usual', async () => {
    await using app = await startTestApp({ CHALLENGE_SESSIONS_PER_IP: '1/1m', CHALLENGE_WORK: '5000' });
    // This address has used up its sessions before a challenge: the page's session needs one.
    await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const page = await openPerson(app, 'Ann');
    await page.getByTestId('start').click();
    await page.getByTestId('screen-waiting').waitFor({ timeout: 30_000 });
    const used = await app.server.services.redis.keys(`${app.prefix}:pow:used:*`);
    expect(used).toHaveLength(1);
    await page.context().close();
  }, 60_000);

  it('a reporter is told, back on the front page, that a moderator acted on their report', async () => {
    await using app = await startTestApp();
    const ann = await openPerson(app, 'Ann');
    await using bob = await connectUser(app.url);
    await ann.getByTestId('start').click();
    await ann.getByTestId('screen-waiting').waitFor();
    await bob.api.match.enqueue.mutate({});
    const { matchId } = await bob.next('matched');
    const { token } = await storedSession(ann);
    const { reportId } = await httpClient(app.url, token).safety.report.mutate({ matchId, reason: 'spam' });
    await app.server.services.moderation.decide(reportId, 'ban', 'admin:test', 'spam', 3_600_000);
    // The ban ends the match and Ann is looking again; she stops and is back on the front page.
    await ann.getByTestId('screen-waiting').waitFor({ timeout: 15_000 });
    await ann.getByTestId('cancel').click();
    await ann.getByTestId('screen-landing').waitFor();
    await expect.poll(() => ann.getByTestId('notice').textContent(), { timeout: 10_000 }).toBe('A moderator acted on your report. Thank you.');
    await shot(ann, 'report-acted-on');
    await ann.context().close();
  }, 60_000);
});
