/**
 * The failure paths a person meets, walked in Chromium: no camera, a camera lost mid-call, the
 * network dropping and returning, a reload mid-call and a server restart. Each ends with the
 * person able to carry on (talk, or start again), and says what they were told on the way.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { startFaultProxy } from '../support/fault-proxy';
import { useBrowser } from './support/browser';
import { expectText, expectVideoPlaying, hasAppeared, loseCamera, recordAppearances, say, startAndMatch } from './support/call';

const { person } = useBrowser();

/** The messages on `page` whose text is exactly `text`. */
const messages = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });

/** After a drop: the message Ann sent meanwhile is delivered once, the pair is the same, and both can still talk and see each other. */
async function expectTheCallGoesOn(ann: Page, bob: Page): Promise<void> {
  await messages(bob, 'sent while offline').waitFor({ timeout: 15_000 });
  await expect.poll(() => messages(ann, 'sent while offline').getAttribute('data-status')).toBe('sent');
  expect(await ann.getByTestId('partner-name').textContent()).toBe('Bob');
  expect(await bob.getByTestId('partner-name').textContent()).toBe('Ann');
  // A message after it, both ways: anything resent twice would be on screen by now.
  await say(bob, 'after the drop');
  await messages(ann, 'after the drop').waitFor();
  await say(ann, 'and back');
  await messages(bob, 'and back').waitFor();
  expect(await messages(bob, 'sent while offline').count()).toBe(1);
  expect(await messages(ann, 'sent while offline').count()).toBe(1);
  await expectVideoPlaying(ann, 'remote-video');
  await expectVideoPlaying(bob, 'remote-video');
}

describe('when things go wrong in the browser', () => {
  it('with the camera denied, a person talks by text with a notice saying so, and the partner sees "text only"', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann', { denyCamera: true });
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    await expectText(ann, 'call-state', /^Text only$/);
    await expectText(ann, 'media-status', /camera/i);
    await expectText(bob, 'partner-text-only', /Ann.*text only/i);
    await say(ann, 'typing works without a camera');
    await messages(bob, 'typing works without a camera').waitFor();
  }, 60_000);

  it('a camera lost mid-call falls back to text with a notice and "Try camera again", and the call gets video back', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    await expectVideoPlaying(bob, 'remote-video');
    await expect(bob.getByTestId('partner-text-only').count()).resolves.toBe(0);

    await loseCamera(ann);
    await expectText(ann, 'media-status', /camera/i);
    await ann.getByTestId('try-camera').waitFor();
    await bob.getByTestId('partner-text-only').waitFor();
    await say(ann, 'still here by text');
    await messages(bob, 'still here by text').waitFor();

    await ann.getByTestId('try-camera').click();
    await expectVideoPlaying(ann, 'local-video');
    await ann.getByTestId('try-camera').waitFor({ state: 'detached' });
    await bob.getByTestId('partner-text-only').waitFor({ state: 'detached' });
    await expectVideoPlaying(bob, 'remote-video');
  }, 60_000);

  it('a camera lost mid-call comes back by itself when a device appears (devicechange)', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    await expectVideoPlaying(bob, 'remote-video');
    await loseCamera(ann);
    await ann.getByTestId('try-camera').waitFor();
    await ann.evaluate(() => navigator.mediaDevices.dispatchEvent(new Event('devicechange')));
    await ann.getByTestId('try-camera').waitFor({ state: 'detached' });
    await bob.getByTestId('partner-text-only').waitFor({ state: 'detached' });
    await expectVideoPlaying(bob, 'remote-video');
  }, 60_000);

  // The page goes through a TCP proxy (tests/support/fault-proxy.ts); resetting its connections
  // cuts the page's WebSocket at once (the browser and the server both see it close), and new
  // connections are refused until it passes traffic again. The call's media is peer to peer and
  // does not go through it. Chromium's offline emulation (context.setOffline) is no cut: it
  // leaves the open WebSocket open and silent (the next test: the page acts on the browser's
  // 'offline' event).
  it('a network cut shows "Reconnecting..."; when it returns the same call goes on and a message sent during the cut arrives once', async () => {
    await using app = await startTestApp();
    await using proxy = await startFaultProxy({ targetHost: '127.0.0.1', targetPort: Number(new URL(app.url).port) });
    const ann = await person({ url: `http://127.0.0.1:${proxy.port}` }, 'Ann');
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    await expectVideoPlaying(ann, 'remote-video');
    await say(ann, 'before the drop');
    await messages(bob, 'before the drop').waitFor();

    proxy.setMode('reset');
    await expectText(ann, 'connection', 'Reconnecting...');
    await say(ann, 'sent while offline');
    proxy.setMode('pass');
    await ann.getByTestId('connection').waitFor({ state: 'detached', timeout: 15_000 });
    await expectTheCallGoesOn(ann, bob);
  }, 60_000);

  it('the browser going offline (Wi-Fi off) shows "Reconnecting..." at once; online again, the same call goes on and a message sent meanwhile arrives once', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    await expectVideoPlaying(ann, 'remote-video');

    // Offline emulation leaves the open socket silent; the page hears the browser's 'offline' and drops it itself.
    await ann.context().setOffline(true);
    await expectText(ann, 'connection', 'Reconnecting...', 2000);
    await say(ann, 'sent while offline');
    await ann.context().setOffline(false);
    await ann.getByTestId('connection').waitFor({ state: 'detached', timeout: 15_000 });
    await expectTheCallGoesOn(ann, bob);
  }, 60_000);

  it('closing the tab tells the partner within LEAVE_GRACE_MS, not after the reconnect grace, and puts them back in the queue', async () => {
    // A reconnect grace far longer than the test: only the leave beacon can end the call in time.
    await using app = await startTestApp({ RECONNECT_GRACE_MS: '60000', LEAVE_GRACE_MS: '1000' });
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    await ann.close();
    await expectText(bob, 'notice', /Finding someone new/, 10_000);
    await bob.getByTestId('screen-waiting').waitFor();
  }, 60_000);

  it('a reload mid-call is back in the same call within seconds; the partner sees "reconnecting" then the call again, and the messages are kept', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    await expectVideoPlaying(ann, 'remote-video');
    await say(ann, 'before the reload');
    await messages(bob, 'before the reload').waitFor();
    await say(bob, 'Bob answers that all is fine');
    await messages(ann, 'Bob answers that all is fine').waitFor();
    await recordAppearances(bob, 'partner-reconnecting');

    await ann.reload();
    await ann.getByTestId('screen-chat').waitFor({ timeout: 5000 });
    expect(await ann.getByTestId('partner-name').textContent()).toBe('Bob');
    await expectVideoPlaying(ann, 'remote-video', 5000);
    await messages(ann, 'before the reload').waitFor({ timeout: 1000 });
    await messages(ann, 'Bob answers that all is fine').waitFor({ timeout: 1000 });

    await expect.poll(() => hasAppeared(bob, 'partner-reconnecting')).toBe(true);
    await bob.getByTestId('partner-reconnecting').waitFor({ state: 'detached', timeout: 10_000 });
    await expectVideoPlaying(bob, 'remote-video');
    expect(await bob.getByTestId('screen-chat').isVisible()).toBe(true);
    await say(ann, 'after the reload');
    await messages(bob, 'after the reload').waitFor();
    expect(await messages(ann, 'before the reload').count()).toBe(1);
  }, 60_000);

  it('after a server restart the pages reconnect to a consistent state: the call goes on, a message gets through, and Start works again', async () => {
    await using first = await startTestApp();
    const ann = await person(first, 'Ann');
    const bob = await person(first, 'Bob');
    await startAndMatch(ann, bob);
    await expectVideoPlaying(ann, 'remote-video');

    // The same address, Redis keys and database: what a restarted process finds.
    await first.server.close();
    await expectText(ann, 'connection', /connect/i);
    const port = new URL(first.url).port;
    await using _second = await startTestApp({ PORT: port }, { redisUrl: first.redisUrl, databaseUrl: first.databaseUrl, prefix: first.prefix });
    await ann.getByTestId('connection').waitFor({ state: 'detached', timeout: 20_000 });
    await bob.getByTestId('connection').waitFor({ state: 'detached', timeout: 20_000 });

    await ann.getByTestId('screen-chat').waitFor();
    await bob.getByTestId('screen-chat').waitFor();
    await say(ann, 'after the restart');
    await messages(bob, 'after the restart').waitFor({ timeout: 10_000 });
    await bob.getByTestId('end').click();
    await bob.getByTestId('screen-landing').waitFor();
    await ann.getByTestId('screen-waiting').waitFor();
    await bob.getByTestId('start').click();
    await bob.getByTestId('screen-waiting').waitFor();
  }, 90_000);
});
