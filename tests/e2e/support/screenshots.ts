/**
 * Pictures of the client for people to look at, at one of the two fixed viewports (see
 * VIEWPORTS), the whole page, animations stopped and the caret hidden. A test run writes them to
 * test-results/screenshots (so `npm test` leaves the checkout clean); the pictures in the README,
 * docs/screenshots, are refreshed with `UPDATE_SCREENSHOTS=1 npx vitest run tests/e2e/screens.test.ts`.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { VIEWPORTS } from './browser';

export const SCREENSHOTS_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots';

export async function screenshot(page: Page, name: string, dir = SCREENSHOTS_DIR): Promise<string> {
  const size = page.viewportSize();
  if (!Object.values(VIEWPORTS).some((v) => v.width === size?.width && v.height === size?.height)) {
    throw new Error(`screenshot ${name}: viewport ${JSON.stringify(size)} is not one of ${JSON.stringify(VIEWPORTS)}`);
  }
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/${name}.png`;
  await page.screenshot({ path, fullPage: true, animations: 'disabled', caret: 'hide' });
  return path;
}
