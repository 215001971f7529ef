/**
 * Every screen and state of the client, on a desktop and a phone, in light and dark: each has
 * exactly one h1 and no axe-core violation of any impact, and its picture is written to
 * <screen>-<viewport>-<scheme>.png for people to review (support/screenshots.ts says where).
 *
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { expectNoAxeViolations } from './support/axe';
import { useBrowser, type PersonOptions, type ViewportName } from './support/browser';
import { addInterest, expectText, expectVideoPlaying, say, storedSession } from './support/call';
import { screenshot } from './support/screenshots';

const { person } = useBrowser();

const LOOKS: Array<{ viewport: ViewportName; colorScheme: 'light' | 'dark' }> = [
  { viewport: 'desktop', colorScheme: 'light' },
  { viewport: 'desktop', colorScheme: 'dark' },
  { viewport: 'phone', colorScheme: 'light' },
  { viewport: 'phone', colorScheme: 'dark' },
];

describe.each(LOOKS)('every screen on a $viewport in $colorScheme mode', ({ viewport, colorScheme }) => {
  const look: PersonOptions = { viewport, colorScheme, reducedMotion: 'reduce' };
  /** One h1, no axe violation, and the picture. */
  const check = async (page: Page, screen: string) => {
    const where = `${screen} (${viewport}, ${colorScheme})`;
    expect(await page.locator('h1').count(), `h1 elements on ${where}`).toBe(1);
    await expectNoAxeViolations(page, where);
    await screenshot(page, `${screen}-${viewport}-${colorScheme}`);
  };

  it('landing, waiting, chat, report panel, a partner by text only, text only yourself, and the ban receipt', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann', look);

    // Landing: camera preview, people online, an interest chip, language and region.
    await expectVideoPlaying(ann, 'preview-video');
    await expectText(ann, 'online-count', /\d/);
    await addInterest(ann, 'music');
    await ann.getByRole('button', { name: 'Remove music' }).waitFor();
    await ann.getByTestId('language').waitFor();
    await ann.getByTestId('region').waitFor();
    await check(ann, 'landing');

    // Waiting: where you are in the queue, and no made-up estimate.
    await ann.getByTestId('start').click();
    await ann.getByTestId('screen-waiting').waitFor();
    await expectText(ann, 'queue-position', /\d/);
    await expectText(ann, 'wait-estimate', 'No estimate yet');
    await check(ann, 'waiting');

    // Chat: both videos, the controls, shared interests, the timer and a few messages.
    const bob = await person(app, 'Bob');
    await addInterest(bob, 'music');
    await bob.getByTestId('start').click();
    await ann.getByTestId('screen-chat').waitFor({ timeout: 15_000 });
    await expectVideoPlaying(ann, 'remote-video');
    await expectText(ann, 'call-state', /^Connected$/);
    await expectText(ann, 'shared-interests', 'You both like music');
    await expectText(ann, 'call-timer', /^\d+:\d{2}$/);
    for (const id of ['mute', 'camera', 'devices', 'skip', 'end', 'report', 'block', 'chat-input', 'send', 'quality']) await ann.getByTestId(id).waitFor();
    await say(bob, 'Hi Ann! What music do you like?');
    await ann.getByTestId('message').filter({ hasText: 'What music' }).waitFor();
    await say(ann, 'Mostly jazz, and you?');
    await ann.getByTestId('message').filter({ hasText: 'Mostly jazz' }).and(ann.locator('[data-status="sent"]')).waitFor();
    await ann.getByTestId('message-time').first().waitFor();
    // The nudity shield clears the fake camera's picture once its model has looked (shield.test.ts
    // pictures and checks the shield itself): the same picture on every run.
    await ann.locator('section.stage[data-shield="clear"]').waitFor({ timeout: 45_000 });
    await check(ann, 'chat');

    // The report panel over the chat.
    await ann.getByTestId('report').click();
    await ann.getByTestId('report-panel').waitFor();
    await check(ann, 'report-panel');
    await ann.getByTestId('report-panel').getByRole('button', { name: 'Cancel' }).click();
    await ann.getByTestId('report-panel').waitFor({ state: 'detached' });

    // Bob ends: Ann is first in the queue, and Cid, who has no camera, gets her.
    await bob.getByTestId('end').click();
    await ann.getByTestId('screen-waiting').waitFor();
    const cid = await person(app, 'Cid', { ...look, denyCamera: true });
    await cid.getByTestId('start').click();
    await ann.getByTestId('screen-chat').waitFor({ timeout: 15_000 });
    await cid.getByTestId('screen-chat').waitFor({ timeout: 15_000 });
    await expectText(ann, 'partner-text-only', /Cid.*text only/i);
    await check(ann, 'chat-partner-text-only');
    await expectText(cid, 'call-state', /^Text only$/);
    await check(cid, 'chat-text-only');

    // Banned: the receipt with the reason, when it ends and the appeal form.
    const { userId } = await storedSession(ann);
    await app.server.services.sanctions.ban(userId, 86_400_000, 'harassment of other people', 'admin:test');
    await ann.getByTestId('screen-ban').waitFor({ timeout: 15_000 });
    await check(ann, 'ban-receipt');
  }, 120_000);
});
