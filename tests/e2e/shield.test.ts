/**
 * The nudity shield in Chromium: the real classifier (nsfwjs' MobileNetV2 in the client's worker)
 * on the fake camera's test pattern clears the partner's video; the unsafe path goes through the
 * classifier's test seam (window.__rendezvousShieldVerdicts, client/src/shield/classifier.ts) with
 * scripted verdicts, never with explicit pictures; and the modes chosen on the front page.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { reports } from '../../server/safety/schema';
import type { Verdict } from '../../client/src/shield/policy';
import { startTestApp } from '../support/app';
import { expectNoAxeViolations } from './support/axe';
import { useBrowser } from './support/browser';
import { expectText, expectVideoPlaying, hasAppeared, recordAppearances, startAndMatch } from './support/call';
import { screenshot } from './support/screenshots';

const { person } = useBrowser();

/** The test seam, set before the app starts: scripted verdicts are taken first, then the real model answers. */
const SCRIPTED = 'window.__rendezvousShieldVerdicts = [];';
// The model loads (seconds on two busy cores) and then needs three safe frames.
const CLEAR_MS = 45_000;

const shieldOf = (page: Page) => page.locator('section.stage').getAttribute('data-shield');
const expectShield = (page: Page, state: 'blurred' | 'clear', timeout = 10_000) => page.locator(`section.stage[data-shield="${state}"]`).waitFor({ timeout });
const script = (page: Page, verdicts: Verdict[]) => page.evaluate((v) => window.__rendezvousShieldVerdicts!.push(...v), verdicts);

async function chooseShield(page: Page, mode: 'on' | 'off' | 'always'): Promise<void> {
  await page.getByTestId('shield-mode').selectOption(mode);
}

describe('the nudity shield', () => {
  it("blurs the partner's video until the real classifier finds the fake camera's frames safe, then clears it", async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann', { shield: true });
    const bob = await person(app, 'Bob', { shield: true });
    await startAndMatch(ann, bob);
    expect(await shieldOf(bob)).toBe('blurred');
    await expectText(bob, 'remote-shield', 'Video hidden until it looks safe');
    await expectVideoPlaying(bob, 'remote-video');
    await expectShield(bob, 'clear', CLEAR_MS);
    expect(await bob.getByTestId('remote-shield').count()).toBe(0);
  }, 90_000);

  it('an explicit frame blurs it again, and sustained explicit frames offer a report that carries the flagged picture', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann', { shield: true });
    const bob = await person(app, 'Bob', { initScript: SCRIPTED, shield: true });
    await script(bob, ['safe', 'safe', 'safe']);
    await startAndMatch(ann, bob);
    await expectShield(bob, 'clear');

    // Once the scripted frames run out the real model answers, and it may still be loading: the next verdict waits for it.
    await script(bob, ['explicit']);
    await expectShield(bob, 'blurred', CLEAR_MS);
    await expectText(bob, 'remote-shield', 'Video hidden again: it may show nudity');
    expect(await bob.getByTestId('shield-report').count()).toBe(0);

    await script(bob, ['explicit', 'explicit', 'explicit']);
    await bob.getByTestId('shield-report').waitFor({ timeout: CLEAR_MS });
    // One tap: the report goes with the flagged frame, and Bob moves on.
    await bob.getByTestId('shield-report').click();
    await expectText(bob, 'notice', 'Thank you for your report');

    const [row] = await app.server.services.database.db.select().from(reports);
    expect(row).toMatchObject({ reason: 'sexual', snapshotType: 'image/jpeg' });
    expect(row!.snapshot!.length).toBeGreaterThan(1000);
  }, 120_000);

  it("'off' never blurs and 'always' stays blurred whatever the frames until the person taps Show anyway; the choice is remembered", async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann', { initScript: SCRIPTED, shield: true });
    const bob = await person(app, 'Bob', { shield: true });
    await chooseShield(ann, 'always');
    await chooseShield(bob, 'off');
    await script(ann, Array<Verdict>(10).fill('safe'));
    await startAndMatch(ann, bob);
    await recordAppearances(bob, 'remote-shield');
    await expectVideoPlaying(bob, 'remote-video');
    await expectVideoPlaying(ann, 'remote-video');

    // Ann: ten safe frames later, still blurred, and saying why.
    await expect.poll(() => ann.evaluate(() => window.__rendezvousShieldVerdicts!.length), { timeout: 15_000 }).toBe(0);
    expect(await shieldOf(ann)).toBe('blurred');
    await expectText(ann, 'remote-shield', 'you chose to always hide it');
    await expectNoAxeViolations(ann, 'chat with the shield over the video');
    await screenshot(ann, 'shield-desktop-light', 'test-results');
    await ann.getByTestId('shield-reveal').click();
    await expectShield(ann, 'clear', 1000);

    // Bob: never blurred at any moment.
    expect(await shieldOf(bob)).toBe('clear');
    expect(await hasAppeared(bob, 'remote-shield')).toBe(false);

    await bob.getByTestId('end').click();
    await bob.getByTestId('screen-landing').waitFor();
    await bob.reload();
    await bob.getByTestId('screen-landing').waitFor();
    expect(await bob.getByTestId('shield-mode').inputValue()).toBe('off');
  }, 90_000);
});
