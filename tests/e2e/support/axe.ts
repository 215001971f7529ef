/**
 * Accessibility: runs axe-core (its published `axe.source` and `axe.run`, nothing else) in the
 * page and fails on any violation, whatever its impact, listing each rule, the elements it
 * flagged and what to fix. The script goes in through the DevTools protocol (page.evaluate), so
 * the app's Content-Security-Policy, which allows no inline script, stays as it is.
 */
import axe from 'axe-core';
import type { AxeResults, Result } from 'axe-core';
import type { Page } from 'playwright-core';

/** The page's violations (all rules axe runs by default: WCAG A/AA and best practices). */
export async function axeViolations(page: Page): Promise<Result[]> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.evaluate(axe.source);
  const results: AxeResults = await page.evaluate(() => (window as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] }));
  return results.violations;
}

/** Readable: one block per rule, one line per flagged element with axe's advice. */
export function formatViolations(where: string, violations: Result[]): string {
  const lines = [`axe found ${violations.length} violation(s) on ${where}:`];
  for (const v of violations) {
    lines.push(`  [${v.impact ?? 'no impact'}] ${v.id}: ${v.help} (${v.helpUrl})`);
    for (const n of v.nodes) {
      lines.push(`    - ${n.target.join(' ')}  ${n.html.slice(0, 160)}`);
      if (n.failureSummary) lines.push(...n.failureSummary.split('\n').map((l) => `        ${l.trim()}`));
    }
  }
  return lines.join('\n');
}

/** Fails with the readable list unless axe finds nothing at all on the page as it is now. */
export async function expectNoAxeViolations(page: Page, where: string): Promise<void> {
  const violations = await axeViolations(page);
  if (violations.length > 0) throw new Error(formatViolations(where, violations));
}
