/**
 * Pictures of the client for people to look at: docs/screenshots/<name>.png, at one of the two
 * fixed viewports (see VIEWPORTS), animations stopped and the caret hidden so reruns of an
 * unchanged screen give the same picture.
 */
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { VIEWPORTS } from './browser';

export const SCREENSHOTS_DIR = 'docs/screenshots';

export async function screenshot(page: Page, name: string, dir = SCREENSHOTS_DIR): Promise<string> {
  const size = page.viewportSize();
  if (!Object.values(VIEWPORTS).some((v) => v.width === size?.width && v.height === size?.height)) {
    throw new Error(`screenshot ${name}: viewport ${JSON.stringify(size)} is not one of ${JSON.stringify(VIEWPORTS)}`);
  }
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/${name}.png`;
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  return path;
}
