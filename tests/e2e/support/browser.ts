/**
 * One headless Debian Chromium per test file, with a fake camera and microphone, and `person()`:
 * a fresh browser context (its own session, storage and camera) on the app's front page at one
 * of the two fixed viewports, in light or dark mode, with the camera allowed or denied.
 *
 *   const { person } = useBrowser(); // in a test file: launches in beforeAll, closes in afterAll
 *   const ann = await person(app, 'Ann', { viewport: 'phone', colorScheme: 'dark' });
 *
 * Every context a test opens is closed after that test (afterEach), passed or failed, so a
 * failing test never leaves pages running into the next one.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { TestApp } from '../../support/app';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The two sizes every screen is checked and pictured at. */
export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // A moving test pattern and a beeping microphone, granted without a prompt.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  // Host candidates with real addresses, so two pages on one machine connect directly.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

/** Chromium with the fake media devices; throws with the fix when the client or the browser is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync('client/dist/index.html')) throw new Error('Build the client first: npm run build:client (npm test does it).');
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (.ci/run does it).`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

export interface PersonOptions {
  viewport?: ViewportName;
  colorScheme?: 'light' | 'dark';
  /** getUserMedia refuses (NotAllowedError) and the permission reads "denied", as after "Block" in the prompt. */
  denyCamera?: boolean;
  reducedMotion?: 'reduce' | 'no-preference';
  /** Source run in every document of the context before its own scripts (see pageSource), reloads included. */
  initScript?: string;
  /**
   * Leave the nudity shield at the person's default (on). Off unless asked for: every page would
   * otherwise load the classifier and sample the partner's video, load that the tests of other
   * things do not need on two cores (tests/e2e/shield.test.ts and screens.test.ts ask for it).
   */
  shield?: boolean;
}

/** A new context and page on the app, nothing filled in (the age question not answered). */
export async function openPage(browser: Browser, app: Pick<TestApp, 'url'>, opts: PersonOptions = {}): Promise<Page> {
  const phone = opts.viewport === 'phone';
  const context = await browser.newContext({
    viewport: VIEWPORTS[opts.viewport ?? 'desktop'],
    isMobile: phone,
    hasTouch: phone,
    colorScheme: opts.colorScheme ?? 'light',
    reducedMotion: opts.reducedMotion ?? 'no-preference',
  });
  if (opts.denyCamera) await context.addInitScript({ content: pageSource(denyCameraInPage) });
  if (!opts.shield) await context.addInitScript({ content: pageSource(shieldOffUnlessChosen) });
  if (opts.initScript) await context.addInitScript({ content: opts.initScript });
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`[page ${page.url()}] ${e.message}\n`));
  await page.goto(app.url);
  return page;
}

/**
 * `fn` called with `arg`, as source text for the page. Under tsx (the benchmarks) esbuild keeps
 * function names by wrapping inner functions in a `__name` helper that exists only in Node, so a
 * function handed to the page as it is fails there with "__name is not defined".
 */
export function pageSource<A>(fn: (arg: A) => unknown, arg?: A): string {
  return `(() => { var __name = (f) => f; return (${fn.toString()})(${JSON.stringify(arg ?? null)}); })()`;
}

/** Runs in the page before its scripts: the shield is off unless the page chose a mode (kept across reloads). */
function shieldOffUnlessChosen(): void {
  const key = 'rendezvous.prefs';
  const prefs = JSON.parse(localStorage.getItem(key) ?? '{}') as Record<string, unknown>;
  if (!('shield' in prefs)) localStorage.setItem(key, JSON.stringify({ ...prefs, shield: 'off' }));
}

/** Runs in the page before its scripts: the camera and microphone are refused, and say so when asked. */
function denyCameraInPage(): void {
  const denied = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  Object.defineProperty(navigator.mediaDevices, 'getUserMedia', { value: denied });
  const query = navigator.permissions.query.bind(navigator.permissions);
  Object.defineProperty(navigator.permissions, 'query', {
    value: async (d: PermissionDescriptor) => {
      if (d.name !== ('camera' as PermissionName) && d.name !== ('microphone' as PermissionName)) return query(d);
      return Object.assign(new EventTarget(), { name: d.name, state: 'denied', onchange: null });
    },
  });
}

/** Answers the front page's questions as an adult who accepts the rules, with `name`. */
export async function answerLanding(page: Page, name: string): Promise<void> {
  await page.getByLabel(/your name/i).fill(name);
  await page.getByLabel('18 or over').check();
  await page.getByLabel(/I accept the rules/).check();
}

export interface People {
  /** A person on the front page with their name, age and rules answered, ready to press Start. */
  person: (app: Pick<TestApp, 'url'>, name: string, opts?: PersonOptions) => Promise<Page>;
  /** A page on the front page with nothing answered. */
  page: (app: Pick<TestApp, 'url'>, opts?: PersonOptions) => Promise<Page>;
  browser: () => Browser;
}

/** Launches Chromium for the calling test file and closes every context a test opened after it. */
export function useBrowser(): People {
  let browser: Browser | undefined;
  const open = new Set<BrowserContext>();
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await Promise.all([...open].map((c) => c.close().catch(() => {})));
    open.clear();
  });
  afterAll(async () => {
    await browser?.close();
  });
  const running = () => {
    if (!browser) throw new Error('useBrowser(): Chromium is not running (call it at the top of a describe or file)');
    return browser;
  };
  const page = async (app: Pick<TestApp, 'url'>, opts: PersonOptions = {}) => {
    const p = await openPage(running(), app, opts);
    open.add(p.context());
    p.context().once('close', () => open.delete(p.context()));
    return p;
  };
  return {
    page,
    person: async (app, name, opts = {}) => {
      const p = await page(app, opts);
      await answerLanding(p, name);
      return p;
    },
    browser: running,
  };
}
