/** What the browser tests do and look at in a call: pairing two people, video frames, the stored session. */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Both press Start (a first, then b) and both reach the chat screen. */
export async function startAndMatch(a: Page, b: Page): Promise<void> {
  await a.getByTestId('start').click();
  await a.getByTestId('screen-waiting').waitFor();
  await b.getByTestId('start').click();
  await a.getByTestId('screen-chat').waitFor({ timeout: 15_000 });
  await b.getByTestId('screen-chat').waitFor({ timeout: 15_000 });
}

/** True once the video element is playing real frames (its clock advances with a size). */
export async function videoPlaying(page: Page, testId: string): Promise<boolean> {
  return page.getByTestId(testId).evaluate(async (el) => {
    const v = el as HTMLVideoElement;
    if (!v.videoWidth) return false;
    const t0 = v.currentTime;
    await new Promise((r) => setTimeout(r, 300));
    return v.currentTime > t0;
  });
}

/** Waits until `testId` plays (see videoPlaying). */
export async function expectVideoPlaying(page: Page, testId: string, timeout = 20_000): Promise<void> {
  await expect.poll(() => videoPlaying(page, testId).catch(() => false), { timeout, interval: 250 }).toBe(true);
}

/** The session the page keeps in sessionStorage (the api module's key). */
export async function storedSession(page: Page): Promise<{ userId: string; token: string }> {
  return JSON.parse(await page.evaluate(() => sessionStorage.getItem('rendezvous.session') ?? '{}')) as { userId: string; token: string };
}

/**
 * Notes, from now on, whether an element with `testId` shows up at any moment (a short-lived
 * overlay a poll could miss); read it back with `hasAppeared`.
 */
export async function recordAppearances(page: Page, testId: string): Promise<void> {
  await page.evaluate((id) => {
    const w = window as unknown as { __appeared?: Record<string, boolean> };
    const seen = (w.__appeared ??= {});
    seen[id] = false;
    const check = () => {
      if (document.querySelector(`[data-testid="${id}"]`)) seen[id] = true;
    };
    check();
    new MutationObserver(check).observe(document.body, { childList: true, subtree: true, attributes: true });
  }, testId);
}

export async function hasAppeared(page: Page, testId: string): Promise<boolean> {
  return page.evaluate((id) => (window as unknown as { __appeared?: Record<string, boolean> }).__appeared?.[id] === true, testId);
}

/** The camera fails as when it is unplugged: the local video track stops and fires 'ended'. */
export async function loseCamera(page: Page): Promise<void> {
  await page.getByTestId('local-video').evaluate((el) => {
    const track = ((el as HTMLVideoElement).srcObject as MediaStream | null)?.getVideoTracks()[0];
    if (!track) throw new Error('no local video track to lose');
    track.stop(); // stop() alone fires no 'ended' on the track; an unplugged device does
    track.dispatchEvent(new Event('ended'));
  });
}

/** Types `text` in the chat box and presses Send. */
export async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('send').click();
}

/**
 * Waits until an element with `testId` shows `text` (a string: contained, any case; a RegExp:
 * matched). Unlike polling textContent(), an element that is not there yet costs no action timeout.
 */
export async function expectText(page: Page, testId: string, text: string | RegExp, timeout = 10_000): Promise<void> {
  await page.getByTestId(testId).filter({ hasText: text }).first().waitFor({ timeout });
}

/** Adds `tag` on the front page (the "Add an interest" box, then Enter) and waits for its chip. */
export async function addInterest(page: Page, tag: string): Promise<void> {
  await page.getByTestId('interest-input').fill(tag);
  await page.getByTestId('interest-input').press('Enter');
  await page.getByTestId('interest-chip').filter({ hasText: tag }).waitFor();
}

/** The focused element: its test id (or tag), and whether it shows a focus ring (:focus-visible with an outline or a shadow). */
export async function focused(page: Page): Promise<{ id: string; ring: boolean }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return { id: 'body', ring: false };
    const css = getComputedStyle(el);
    const ring = el.matches(':focus-visible') && ((css.outlineStyle !== 'none' && parseFloat(css.outlineWidth) > 0) || css.boxShadow !== 'none');
    return { id: el.dataset.testid ?? el.tagName.toLowerCase(), ring };
  });
}

/** Moves the focus to the top of the page, so the next Tab goes to its first control (blur() alone leaves Tab's starting point where it was). */
export async function focusTop(page: Page): Promise<void> {
  await page.evaluate(() => {
    document.body.tabIndex = -1;
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
}

/** Presses Tab until the element with `testId` has the focus (at most `max` times); the ids passed on the way, each with its ring. */
export async function tabTo(page: Page, testId: string, max = 60): Promise<Array<{ id: string; ring: boolean }>> {
  const path: Array<{ id: string; ring: boolean }> = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    path.push(f);
    if (f.id === testId) return path;
  }
  throw new Error(`Tab never reached ${testId} in ${max} presses: ${path.map((p) => p.id).join(' > ')}`);
}

/** Presses Tab until the focus comes back round to where the first press put it: every stop once, in order. */
export async function tabCycle(page: Page, max = 80): Promise<Array<{ id: string; ring: boolean }>> {
  const path: Array<{ id: string; ring: boolean }> = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (path.length > 0 && (f.id === path[0]!.id || f.id === 'body')) return path; // round, or past the last control
    path.push(f);
  }
  throw new Error(`the focus did not come round in ${max} Tab presses: ${path.map((p) => p.id).join(' > ')}`);
}
