/**
 * The call's controls in Chromium: mute and camera change aria-pressed and what the partner
 * gets, the device pickers list the (fake) devices, the call timer runs, and shared interests
 * are named.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { useBrowser } from './support/browser';
import { addInterest, expectText, expectVideoPlaying, startAndMatch } from './support/call';

const { person } = useBrowser();

/** The loudest sample of the partner's audio over ~1.5 s (the fake microphone beeps once a second), 0..1. */
async function partnerAudioPeak(page: Page): Promise<number> {
  return page.getByTestId('remote-video').evaluate(async (el) => {
    const track = ((el as HTMLVideoElement).srcObject as MediaStream | null)?.getAudioTracks()[0];
    if (!track) return 0;
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    ctx.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    let peak = 0;
    const until = performance.now() + 1500;
    while (performance.now() < until) {
      analyser.getFloatTimeDomainData(buf);
      for (const v of buf) peak = Math.max(peak, Math.abs(v));
      await new Promise((r) => setTimeout(r, 20));
    }
    await ctx.close();
    return peak;
  });
}

async function inCall(app: { url: string }): Promise<[Page, Page]> {
  const ann = await person(app, 'Ann');
  const bob = await person(app, 'Bob');
  await startAndMatch(ann, bob);
  await expectVideoPlaying(bob, 'remote-video');
  return [ann, bob];
}

describe('call controls', () => {
  it('Mute flips aria-pressed, the partner hears nothing and sees that Ann is muted; unmuting brings the sound back', async () => {
    await using app = await startTestApp();
    const [ann, bob] = await inCall(app);
    expect(await ann.getByTestId('mute').getAttribute('aria-pressed')).toBe('false');
    await expect.poll(() => partnerAudioPeak(bob), { timeout: 10_000 }).toBeGreaterThan(0.01);
    await ann.getByTestId('mute').click();
    expect(await ann.getByTestId('mute').getAttribute('aria-pressed')).toBe('true');
    await expectText(bob, 'partner-muted', 'Ann is muted');
    await expect.poll(() => partnerAudioPeak(bob), { timeout: 10_000 }).toBeLessThan(0.001);
    await ann.getByTestId('mute').click();
    expect(await ann.getByTestId('mute').getAttribute('aria-pressed')).toBe('false');
    await expect.poll(() => partnerAudioPeak(bob), { timeout: 10_000 }).toBeGreaterThan(0.01);
  }, 60_000);

  it('the camera button flips aria-pressed and the partner sees "camera off" (still hearing her) until it is turned back on', async () => {
    await using app = await startTestApp();
    const [ann, bob] = await inCall(app);
    const on = await ann.getByTestId('camera').getAttribute('aria-pressed');
    await ann.getByTestId('camera').click();
    expect(await ann.getByTestId('camera').getAttribute('aria-pressed')).not.toBe(on);
    await expectText(bob, 'partner-text-only', /Ann.*camera off/i);
    await ann.getByTestId('camera').click();
    expect(await ann.getByTestId('camera').getAttribute('aria-pressed')).toBe(on);
    await bob.getByTestId('partner-text-only').waitFor({ state: 'detached' });
    await expectVideoPlaying(bob, 'remote-video');
  }, 60_000);

  it('the device pickers list the cameras and microphones the browser has, with a microphone level', async () => {
    await using app = await startTestApp();
    const [ann] = await inCall(app);
    await ann.getByTestId('devices').click();
    const devices = await ann.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).map((d) => ({ kind: d.kind, label: d.label })));
    const labels = (kind: string) => devices.filter((d) => d.kind === kind).map((d) => d.label);
    expect(labels('videoinput').length).toBeGreaterThan(0);
    await expect.poll(() => ann.getByTestId('camera-select').locator('option').allTextContents()).toEqual(expect.arrayContaining(labels('videoinput')));
    await expect.poll(() => ann.getByTestId('mic-select').locator('option').allTextContents()).toEqual(expect.arrayContaining(labels('audioinput')));
    await ann.getByTestId('mic-level').waitFor();
  }, 60_000);

  it('the call timer counts up in m:ss', async () => {
    await using app = await startTestApp();
    const [ann] = await inCall(app);
    await expectText(ann, 'call-timer', /^\d+:\d{2}$/);
    const first = await ann.getByTestId('call-timer').textContent();
    await expect.poll(() => ann.getByTestId('call-timer').textContent(), { timeout: 5000 }).not.toBe(first);
    expect(await ann.getByTestId('call-timer').textContent()).toMatch(/^\d+:\d{2}$/);
  }, 60_000);

  it('two people who both gave "music" are told they both like music', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    await addInterest(ann, 'music');
    await addInterest(bob, 'music');
    await startAndMatch(ann, bob);
    await expectText(ann, 'shared-interests', 'You both like music');
    await expectText(bob, 'shared-interests', 'You both like music');
  }, 60_000);
});
