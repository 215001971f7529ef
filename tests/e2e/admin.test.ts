/**
 * The operator console (/admin) in a real browser against a real server: each role signs in and
 * sees only what it may do (and the server refuses a viewer's mutation anyway), the overview moves
 * while people queue and match, a moderator's ban ends the banned person's call in their own
 * page, and every console screen has one h1, no axe-core violation and a picture
 * (console-<screen>-<viewport>-<scheme>.png, see support/screenshots.ts), on a desktop and a
 * phone, light and dark. Test ids: client/src/admin/TESTIDS.md. Operators come from
 * tests/support/operators.ts (createOperator(app, role, name), password OPERATOR_PASSWORD).
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { connectUser, matchedPair, type TestUser } from '../support/client';
import { OPERATOR_PASSWORD, createOperator } from '../support/operators';
import { expectNoAxeViolations } from './support/axe';
import { useBrowser, type PersonOptions, type ViewportName } from './support/browser';
import { expectText, focusTop, focused, startAndMatch, storedSession, tabTo } from './support/call';
import { screenshot } from './support/screenshots';

const { page: openPage, person } = useBrowser();

type Role = 'viewer' | 'moderator' | 'admin';
const PASSWORD = OPERATOR_PASSWORD;
const SECTIONS = ['overview', 'funnel', 'lookup', 'switches', 'moderation', 'recovery', 'privacy', 'operators', 'activity', 'account'] as const;
const LOOKS: Array<{ viewport: ViewportName; colorScheme: 'light' | 'dark' }> = [
  { viewport: 'desktop', colorScheme: 'light' },
  { viewport: 'desktop', colorScheme: 'dark' },
  { viewport: 'phone', colorScheme: 'light' },
  { viewport: 'phone', colorScheme: 'dark' },
];

/** A new operator with `role`, signed in on /admin in a browser page of their own. */
async function operatorPage(app: TestApp, name: string, role: Role, look: PersonOptions = {}): Promise<Page> {
  await createOperator(app, role, name);
  const page = await openPage({ url: `${app.url}/admin` }, look);
  await signIn(page, name, PASSWORD);
  await page.getByTestId('screen-overview').waitFor();
  return page;
}

async function signIn(page: Page, name: string, password: string): Promise<void> {
  await page.getByTestId('screen-login').waitFor();
  await page.getByTestId('login-name').fill(name);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
}

async function open(page: Page, section: (typeof SECTIONS)[number]): Promise<void> {
  await page.getByTestId(`nav-${section}`).click();
  await page.getByTestId(`screen-${section}`).waitFor();
}

/** Opens Lookup & act on `userId` (an exact id finds one person, who opens at once). */
async function lookUp(page: Page, userId: string): Promise<void> {
  await open(page, 'lookup');
  await page.getByTestId('lookup-query').fill(userId);
  await page.getByTestId('lookup-submit').click();
  await page.locator(`[data-testid="user-detail"][data-user-id="${userId}"]`).waitFor();
}

/** Runs the action `id` with `reason` (see parts/Action.tsx) and waits for it to be done. */
async function act(page: Page, id: string, reason: string, fill?: (page: Page) => Promise<void>): Promise<void> {
  await page.getByTestId(id).first().click();
  await fill?.(page);
  if (reason) await page.getByTestId(`${id}-reason`).fill(reason);
  await page.getByTestId(`${id}-confirm`).click();
  await page.getByTestId(`${id}-done`).first().waitFor();
}

/** The number a stat tile shows (digits only: "1,234" is 1234). */
async function statValue(page: Page, testId: string): Promise<number> {
  const text = (await page.getByTestId(testId).textContent()) ?? '';
  return Number(text.replace(/[^\d.]/g, '')) || 0;
}

/** A mutation sent from the page with its own cookie, as a tampered client would: the HTTP status and tRPC code. */
async function mutateFromPage(page: Page, path: string, input: unknown): Promise<{ status: number; code: string | undefined }> {
  return page.evaluate(
    async ({ path, input }) => {
      const res = await fetch(`/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
      const body = (await res.json()) as { error?: { data?: { code?: string } } };
      return { status: res.status, code: body.error?.data?.code };
    },
    { path, input },
  );
}

describe('the operator console', () => {
  it('a wrong password gets one plain sentence; each role sees only the controls it may use; the server refuses a viewer anyway', async () => {
    await using app = await startTestApp();
    await using target = await connectUser(app.url, { displayName: 'Tess' });
    await target.api.match.enqueue.mutate({});

    // Wrong password: one sentence, and still on the login form.
    await createOperator(app, 'viewer', 'vera');
    const viewer = await openPage({ url: `${app.url}/admin` });
    await signIn(viewer, 'vera', 'not the password at all');
    await expectText(viewer, 'login-error', /\w+.*\./);
    // Someone on a fresh server, with no account yet, is told how the first admin is made.
    await expectText(viewer, 'login-first-admin', /npm run operator:create/);
    await signIn(viewer, 'vera', PASSWORD);
    await expectText(viewer, 'operator-who', /vera.*viewer/);

    // Viewer: no admin sections, and no action control anywhere.
    expect(await viewer.getByTestId('nav-operators').count()).toBe(0);
    expect(await viewer.getByTestId('nav-privacy').count()).toBe(0);
    await lookUp(viewer, target.userId);
    await expectText(viewer, 'user-state', 'WAITING');
    expect(await viewer.getByTestId('user-actions').count()).toBe(0);
    expect(await viewer.getByTestId('match-end').count()).toBe(0);
    expect(await viewer.getByTestId('pool-pause').count()).toBe(0);
    await open(viewer, 'switches');
    await viewer.getByTestId('switch-stopMatching-state').waitFor();
    expect(await viewer.locator('[data-testid$="-toggle"]').count()).toBe(0);
    // The server says no to the viewer's own cookie, and nothing happens.
    const refused = await mutateFromPage(viewer, 'admin.moderation.ban', { userId: target.userId, durationMs: null, reason: 'not allowed to do this' });
    expect(refused).toEqual({ status: 403, code: 'FORBIDDEN' });
    expect(await app.server.services.sanctions.isBanned(target.userId)).toBe(false);

    // Moderator: ends, disconnects, bans and warns, but no admin actions.
    const mod = await operatorPage(app, 'mona', 'moderator');
    expect(await mod.getByTestId('nav-operators').count()).toBe(0);
    await lookUp(mod, target.userId);
    for (const id of ['user-disconnect', 'user-ban', 'user-warn']) await mod.getByTestId(id).waitFor();
    expect(await mod.getByTestId('user-force').count()).toBe(0);
    expect(await mod.getByTestId('pool-pause').count()).toBe(0);
    await act(mod, 'user-warn', 'Please keep it friendly.');
    await open(mod, 'switches');
    expect(await mod.locator('[data-testid$="-toggle"]').count()).toBe(0);

    // Admin: everything, including the kill switches, with a reason, recorded in the activity log.
    const admin = await operatorPage(app, 'ada', 'admin');
    await lookUp(admin, target.userId);
    await admin.getByTestId('user-force').waitFor();
    await admin.getByTestId('pool-pause').waitFor();
    await open(admin, 'switches');
    await act(admin, 'switch-textOnly-toggle', 'TURN relay is down');
    await expectText(admin, 'switch-textOnly-state', 'On');
    await act(admin, 'switch-textOnly-toggle', 'TURN relay is back');
    await expectText(admin, 'switch-textOnly-state', 'Off');
    // A subject access request: everything about the person, as a JSON download.
    await open(admin, 'privacy');
    await admin.getByTestId('privacy-user').fill(target.userId);
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByTestId('privacy-export').click()]);
    expect(download.suggestedFilename()).toBe(`rendezvous-${target.userId}.json`);
    expect(JSON.stringify(JSON.parse(await readFile(await download.path(), 'utf8')))).toContain(target.userId);
    await open(admin, 'activity');
    await admin.locator('[data-testid="activity-row"][data-action="admin.switches.set"][data-outcome="ok"]').first().waitFor();
    await admin.locator('[data-testid="activity-row"][data-action="admin.moderation.warn"]').filter({ hasText: 'mona' }).waitFor();
  }, 90_000);

  it('a viewer changes their own password under Your account; a wrong current one gets the server sentence', async () => {
    await using app = await startTestApp();
    const page = await operatorPage(app, 'val', 'viewer');
    await open(page, 'account');
    const change = async (current: string, next: string, repeat = next) => {
      await page.getByTestId('password-current').fill(current);
      await page.getByTestId('password-next').fill(next);
      await page.getByTestId('password-repeat').fill(repeat);
      await page.getByTestId('password-submit').click();
    };
    await change(PASSWORD, 'a brand new password', 'a different one here');
    await expectText(page, 'password-result', "The new password and its repeat don't match.");
    await change('not my password at all', 'a brand new password');
    await page.locator('[data-testid="password-result"][role="alert"]').filter({ hasNotText: 'repeat' }).waitFor();
    await change(PASSWORD, 'a brand new password');
    await expectText(page, 'password-result', 'Password changed. Your other sessions have been signed out.');
    const other = await openPage({ url: `${app.url}/admin` });
    await signIn(other, 'val', 'a brand new password');
    await other.getByTestId('screen-overview').waitFor();
  });

  it('the console works from the keyboard alone, with a focus ring on every stop', async () => {
    await using app = await startTestApp();
    await createOperator(app, 'admin', 'kay');
    const page = await openPage({ url: `${app.url}/admin` });
    await page.getByTestId('screen-login').waitFor();
    await focusTop(page);
    await tabTo(page, 'login-name');
    await page.keyboard.type('kay');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByTestId('screen-overview').waitFor();

    await focusTop(page);
    const toNav = await tabTo(page, 'nav-switches');
    expect(toNav.filter((stop) => !stop.ring)).toEqual([]);
    await page.keyboard.press('Enter');
    await page.getByTestId('switch-textOnly-toggle').waitFor();
    const toToggle = await tabTo(page, 'switch-textOnly-toggle');
    expect(toToggle.filter((stop) => !stop.ring)).toEqual([]);
    // The form opens with the focus in its reason; Enter confirms; the focus comes back to the button.
    await page.keyboard.press('Enter');
    await expect.poll(() => focused(page)).toEqual({ id: 'switch-textOnly-toggle-reason', ring: true });
    await page.keyboard.type('checking the keyboard path');
    await page.keyboard.press('Enter');
    await expectText(page, 'switch-textOnly-state', 'On');
    await expect.poll(async () => (await focused(page)).id).toBe('switch-textOnly-toggle');
  }, 60_000);

  it('the overview moves while people queue and match', async () => {
    await using app = await startTestApp();
    const admin = await operatorPage(app, 'ada', 'admin');
    await expectText(admin, 'stat-online', /\d/);
    const before = await statValue(admin, 'stat-online');

    const people: TestUser[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const { a, b } = await matchedPair(app.url, { joined: true });
        people.push(a, b);
      }
      const waiting = await connectUser(app.url, { displayName: 'Wes' });
      people.push(waiting);
      await waiting.api.match.enqueue.mutate({});

      await expect.poll(() => statValue(admin, 'stat-online'), { timeout: 15_000 }).toBeGreaterThanOrEqual(before + 7);
      // A rate over the last minutes: above nothing once three matches were made.
      await expect.poll(() => statValue(admin, 'stat-matches'), { timeout: 15_000 }).toBeGreaterThan(0);
      await expect.poll(() => statValue(admin, 'stat-queue'), { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
      await expect
        .poll(async () => Number(await admin.locator('[data-pool="global"] [data-testid="pool-IN_CALL"]').textContent()), { timeout: 15_000 })
        .toBe(6);
      await expectText(admin, 'chart-people-summary', /Online: now \d+/);
    } finally {
      await Promise.all(people.map((p) => p.close()));
    }
  }, 90_000);

  it("a moderator bans a person from the console and that person's call ends in their own browser", async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    const { userId } = await storedSession(ann);

    const mod = await operatorPage(app, 'mona', 'moderator');
    await lookUp(mod, userId);
    await expectText(mod, 'user-state', /CONNECTING|IN_CALL/);
    await act(mod, 'user-ban', 'harassment seen on review', async (p) => {
      await p.getByTestId('user-ban-duration').selectOption({ label: '7 days' });
    });

    await ann.getByTestId('screen-ban').waitFor({ timeout: 15_000 });
    await bob.getByTestId('screen-chat').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await app.server.services.sanctions.isBanned(userId)).toBe(true);
    await expectText(mod, 'user-standing', /Banned until/);
  }, 90_000);

  it('every console screen has one h1, passes axe and is pictured on a desktop and a phone, light and dark', async () => {
    await using app = await startTestApp();
    // Something on each screen: a person to look up, an open report with a picture, a match in the funnel.
    const { a: ann, b: bob, matchId } = await matchedPair(app.url, { joined: true });
    try {
      const picture = await (await openPage(app)).screenshot({ type: 'jpeg', clip: { x: 0, y: 0, width: 160, height: 120 } });
      await ann.api.safety.report.mutate({ matchId, reason: 'harassment', note: 'Kept insulting me', snapshot: picture.toString('base64'), block: false });

      for (const [i, look] of LOOKS.entries()) {
        const { viewport, colorScheme } = look;
        const check = async (page: Page, screen: string) => {
          const where = `console ${screen} (${viewport}, ${colorScheme})`;
          expect(await page.locator('h1').count(), `h1 elements on ${where}`).toBe(1);
          await expectNoAxeViolations(page, where);
          await screenshot(page, `console-${screen}-${viewport}-${colorScheme}`);
        };
        const opts: PersonOptions = { viewport, colorScheme, reducedMotion: 'reduce' };
        await createOperator(app, 'admin', `ada${i}`);
        const page = await openPage({ url: `${app.url}/admin` }, opts);
        // The sign-in form with its refusal (one wrong attempt in all: sign-in is rate limited per address).
        if (i === 0) {
          await signIn(page, `ada${i}`, 'a wrong password here');
          await page.getByTestId('login-error').waitFor();
        } else await page.getByTestId('screen-login').waitFor();
        await check(page, 'login');
        await signIn(page, `ada${i}`, PASSWORD);
        for (const section of SECTIONS) {
          if (section === 'lookup') await lookUp(page, bob.userId);
          else await open(page, section);
          if (section === 'overview') await page.getByTestId('chart-people').waitFor();
          if (section === 'funnel') await page.getByTestId('chart-funnel').waitFor();
          if (section === 'moderation') await page.getByTestId('report-picture').waitFor();
          if (section === 'operators') await page.getByTestId('operator-row').first().waitFor();
          await check(page, section);
        }
        // An action's form, open, with the server's refusal under it.
        await open(page, 'privacy');
        await page.getByTestId('privacy-user').fill(bob.userId);
        await page.getByTestId('privacy-erase').click();
        await page.getByTestId('privacy-erase-form').waitFor();
        await check(page, 'action-form');
        await page.context().close();
      }
    } finally {
      await ann.close();
      await bob.close();
    }
  }, 240_000);
});
