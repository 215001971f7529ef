/**
 * bench:browser's stopwatch inside the page, so playwright's own round trips never count. Times
 * are epoch milliseconds at sub-millisecond resolution (performance.timeOrigin + now()), which
 * pages of one machine share, so a send in one page and its arrival in another compare.
 *
 * - armClick(mark, testId): the next click on that control, at the event's own timestamp.
 * - watchVideo(mark, testId, exclude): the first 16 ms tick at which the <video> shows a video
 *   track not in `exclude` (not the previous partner's) with a size and its clock advancing.
 * - watchText(mark, text): the first moment a partner message containing `text` is on screen.
 * - reload(): notes the time in sessionStorage and reloads; the new document watches
 *   remote-video from its first script (mark 'reloaded'), so the figure covers the unload, the
 *   load, the reconnect and the renegotiated call.
 */
import type { Page } from 'playwright-core';
import { pageSource } from '../tests/e2e/support/browser';

export type Marks = Record<string, number>;

interface Stopwatch {
  marks: Marks;
  reloadedFrom: number | null;
  armClick(mark: string, testId: string): void;
  watchVideo(mark: string, testId: string, exclude: string[]): void;
  watchText(mark: string, text: string): void;
  videoTracks(testId: string): string[];
  reload(): void;
}
type WithStopwatch = Window & { __bench: Stopwatch };

/** Installed in every document of a bench context (addInitScript). */
function install(): void {
  const now = () => performance.timeOrigin + performance.now();
  const marks: Marks = {};
  const clicks = new Map<string, string>();
  addEventListener(
    'click',
    (e) => {
      const id = (e.target as Element | null)?.closest?.('[data-testid]')?.getAttribute('data-testid');
      const mark = id && clicks.get(id);
      if (!id || !mark) return;
      clicks.delete(id);
      marks[mark] = performance.timeOrigin + e.timeStamp;
    },
    true,
  );
  const trackIds = (v: HTMLVideoElement | null) => ((v?.srcObject as MediaStream | null)?.getVideoTracks() ?? []).map((t) => t.id);
  const sw: Stopwatch = {
    marks,
    reloadedFrom: Number(sessionStorage.getItem('bench.reloadAt')) || null,
    armClick: (mark, testId) => void clicks.set(testId, mark),
    videoTracks: (testId) => trackIds(document.querySelector(`[data-testid="${testId}"]`)),
    watchVideo(mark, testId, exclude) {
      let last: { track: string; time: number } | null = null;
      const timer = setInterval(() => {
        const v = document.querySelector<HTMLVideoElement>(`[data-testid="${testId}"]`);
        const track = trackIds(v).find((t) => !exclude.includes(t));
        if (!v || !track || !v.videoWidth) return void (last = null);
        if (last?.track === track && v.currentTime > last.time) {
          marks[mark] = now();
          clearInterval(timer);
        }
        last = { track, time: v.currentTime };
      }, 16);
    },
    watchText(mark, text) {
      const check = () => {
        const hit = [...document.querySelectorAll('[data-testid="message"][data-from="partner"]')].some((m) => m.textContent?.includes(text));
        if (!hit) return false;
        marks[mark] = now();
        observer.disconnect();
        return true;
      };
      const observer = new MutationObserver(check);
      if (!check()) observer.observe(document, { childList: true, subtree: true, characterData: true });
    },
    reload() {
      sessionStorage.setItem('bench.reloadAt', String(now()));
      location.reload();
    },
  };
  sessionStorage.removeItem('bench.reloadAt');
  (window as unknown as WithStopwatch).__bench = sw;
  // After a reload: the call is back once the partner's video plays on this new page.
  if (sw.reloadedFrom) sw.watchVideo('reloaded', 'remote-video', []);
}

export const STOPWATCH_SCRIPT = pageSource(install);

export async function armClick(page: Page, mark: string, testId: string): Promise<void> {
  await page.evaluate(([m, id]) => (window as unknown as WithStopwatch).__bench.armClick(m, id), [mark, testId] as const);
}

export async function watchVideo(page: Page, mark: string, exclude: string[] = []): Promise<void> {
  await page.evaluate(([m, ex]) => (window as unknown as WithStopwatch).__bench.watchVideo(m, 'remote-video', ex), [mark, exclude] as const);
}

export async function watchText(page: Page, mark: string, text: string): Promise<void> {
  await page.evaluate(([m, t]) => (window as unknown as WithStopwatch).__bench.watchText(m, t), [mark, text] as const);
}

export async function remoteTracks(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as WithStopwatch).__bench.videoTracks('remote-video'));
}

/** Reloads from inside the page (the start time is taken there); resolves once the new document has loaded. */
export async function reloadInPage(page: Page): Promise<void> {
  await Promise.all([page.waitForEvent('load'), page.evaluate(() => setTimeout(() => (window as unknown as WithStopwatch).__bench.reload(), 0))]);
}

/** The mark once set, or null after `timeoutMs`. */
export async function mark(page: Page, name: string, timeoutMs: number): Promise<number | null> {
  try {
    const h = await page.waitForFunction((m) => (window as unknown as WithStopwatch).__bench.marks[m], name, { timeout: timeoutMs, polling: 16 });
    return (await h.jsonValue()) as number;
  } catch {
    return null;
  }
}

export async function reloadedFrom(page: Page): Promise<number | null> {
  return page.evaluate(() => (window as unknown as WithStopwatch).__bench.reloadedFrom);
}
