/**
 * Browser end-to-end: Debian Chromium (headless, fake camera and microphone) drives the built
 * client served by a real server. Screenshots are kept under test-results/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { blocks } from '../../server/match/schema';
import { appeals, reports } from '../../server/safety/schema';
import { startTestApp, type TestApp } from '../support/app';
import { ADULT, connectUser, httpClient } from '../support/client';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = 'test-results';

let browser: Browser;

beforeAll(async () => {
  if (!existsSync('client/dist/index.html')) throw new Error('Build the client first: npm run build:client (npm test does it).');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (.ci/run does it).`);
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

async function openPerson(app: TestApp, name: string, opts: { denyCamera?: boolean } = {}): Promise<Page> {
  const context = await browser.newContext();
  if (opts.denyCamera) {
    await context.addInitScript(() => {
      const denied = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      Object.defineProperty(navigator.mediaDevices, 'getUserMedia', { value: denied });
    });
  }
  const page = await context.newPage();
  await page.goto(app.url);
  await page.getByLabel(/your name/i).fill(name);
  await page.getByLabel('18 or over').check();
  await page.getByLabel(/I accept the rules/).check();
  return page;
}

async function startAndMatch(a: Page, b: Page): Promise<void> {
  await a.getByTestId('start').click();
  await a.getByTestId('screen-waiting').waitFor();
  await b.getByTestId('start').click();
  await a.getByTestId('screen-chat').waitFor({ timeout: 15_000 });
  await b.getByTestId('screen-chat').waitFor({ timeout: 15_000 });
}

/** True once the video element is playing real frames (its clock advances with a size). */
async function videoPlaying(page: Page, testId: string): Promise<boolean> {
  return page.getByTestId(testId).evaluate(async (el) => {
    const v = el as HTMLVideoElement;
    if (!v.videoWidth) return false;
    const t0 = v.currentTime;
    await new Promise((r) => setTimeout(r, 300));
    return v.currentTime > t0;
  });
}

describe('the web client in Chromium', () => {
  it('two people press Start, get matched, and a message typed by one appears for the other', async () => {
    await using app = await startTestApp();
    const ann = await openPerson(app, 'Ann');
    const bob = await openPerson(app, 'Bob');
    await startAndMatch(ann, bob);
    await ann.getByTestId('chat-input').fill('hello from Ann');
    await ann.getByTestId('send').click();
    await bob.getByTestId('message').filter({ hasText: 'hello from Ann' }).waitFor();
    await ann.screenshot({ path: `${SHOTS}/chat-ann.png` });
    await bob.screenshot({ path: `${SHOTS}/chat-bob.png` });

    await bob.getByTestId('end').click();
    await bob.getByTestId('screen-landing').waitFor();
    await ann.getByTestId('notice').waitFor();
    await ann.getByTestId('screen-waiting').waitFor();
    await ann.context().close();
    await bob.context().close();
  }, 60_000);

  it('Start asks for an age and the rules first; an under-13 answer is refused in plain words and nobody is queued', async () => {
    await using app = await startTestApp();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByTestId('start').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Please tell us your age and accept the rules');
    await page.getByLabel('Under 13').check();
    await page.getByLabel(/I accept the rules/).check();
    await page.screenshot({ path: `${SHOTS}/age-question.png` });
    await page.getByTestId('start').click();
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('Rendezvous is for adults (18 and over).');
    expect(await page.getByTestId('screen-landing').isVisible()).toBe(true);
    await context.close();
  }, 60_000);

  it('in direct mode each page shows the other person’s video playing', async () => {
    await using app = await startTestApp();
    const ann = await openPerson(app, 'Ann');
    const bob = await openPerson(app, 'Bob');
    await startAndMatch(ann, bob);
    await expect.poll(() => videoPlaying(ann, 'remote-video'), { timeout: 20_000, interval: 250 }).toBe(true);
    await expect.poll(() => videoPlaying(bob, 'remote-video'), { timeout: 20_000, interval: 250 }).toBe(true);
    await ann.screenshot({ path: `${SHOTS}/video-ann.png` });
    await bob.screenshot({ path: `${SHOTS}/video-bob.png` });
    await ann.context().close();
    await bob.context().close();
  }, 60_000);

  it('a person reports their partner with a picture of their video: the report and the block are recorded, and they move on', async () => {
    await using app = await startTestApp();
    const ann = await openPerson(app, 'Ann');
    const bob = await openPerson(app, 'Bob');
    await startAndMatch(ann, bob);
    await expect.poll(() => videoPlaying(ann, 'remote-video'), { timeout: 20_000, interval: 250 }).toBe(true);
    await ann.getByTestId('report').click();
    await ann.getByLabel('Harassment or hate').check();
    await ann.getByLabel(/Anything to add/).fill('rude from the start');
    await ann.getByLabel(/Attach a picture/).check();
    await ann.screenshot({ path: `${SHOTS}/report-panel.png` });
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
    await ann.screenshot({ path: `${SHOTS}/camera-denied-ann.png` });
    await ann.context().close();
    await bob.context().close();
  }, 60_000);

  it('a banned person sees their ban receipt, with the reason and when it ends, and sends an appeal', async () => {
    await using app = await startTestApp();
    const page = await openPerson(app, 'Mallory');
    await page.getByTestId('start').click();
    await page.getByTestId('screen-waiting').waitFor();
    const stored = await page.evaluate(() => sessionStorage.getItem('rendezvous.session') ?? '{}');
    const { userId } = JSON.parse(stored) as { userId: string };
    const receipt = await app.server.services.sanctions.ban(userId, 86_400_000, 'harassment of other people', 'admin:test');
    // The ban ends the session; a new one from this device is refused with the receipt.
    await page.getByTestId('screen-ban').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('ban-reason').textContent()).toContain('harassment of other people');
    expect(await page.getByTestId('ban-receipt').textContent()).toBe(receipt.receiptId);
    expect(await page.getByRole('heading').textContent()).toMatch(/^You can't use Rendezvous until /);
    await page.getByTestId('appeal-text').fill('I was not harassing anyone, I only said hello.');
    await page.screenshot({ path: `${SHOTS}/ban-receipt.png` });
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
    const { token } = JSON.parse(await ann.evaluate(() => sessionStorage.getItem('rendezvous.session') ?? '{}')) as { token: string };
    const { reportId } = await httpClient(app.url, token).safety.report.mutate({ matchId, reason: 'spam' });
    await app.server.services.moderation.decide(reportId, 'ban', 'admin:test', 'spam', 3_600_000);
    // The ban ends the match and Ann is looking again; she stops and is back on the front page.
    await ann.getByTestId('screen-waiting').waitFor({ timeout: 15_000 });
    await ann.getByTestId('cancel').click();
    await ann.getByTestId('screen-landing').waitFor();
    await expect.poll(() => ann.getByTestId('notice').textContent(), { timeout: 10_000 }).toBe('A moderator acted on your report. Thank you.');
    await ann.screenshot({ path: `${SHOTS}/report-acted-on.png` });
    await ann.context().close();
  }, 60_000);
});
