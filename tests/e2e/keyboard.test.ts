/**
 * The client by keyboard alone: Tab reaches every control with a visible focus ring, Enter
 * starts and sends, Esc skips (from the chat box only when it is empty).
 */
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { useBrowser } from './support/browser';
import { expectText, focusTop, startAndMatch, tabCycle, tabTo } from './support/call';

const { person } = useBrowser();

describe('by keyboard', () => {
  it('Tab goes through the front page to Start, every stop with a visible focus ring, and Enter starts', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    await focusTop(ann);
    const path = await tabTo(ann, 'start');
    const ids = path.map((p) => p.id);
    for (const id of ['interest-input', 'language', 'region', 'text-only']) expect(ids, `Tab order: ${ids.join(' > ')}`).toContain(id);
    expect(
      path.filter((p) => !p.ring).map((p) => p.id),
      'stops without a visible focus ring',
    ).toEqual([]);
    await ann.keyboard.press('Enter');
    await ann.getByTestId('screen-waiting').waitFor();
  }, 60_000);

  it('in a call: Tab reaches every control with a ring, Enter sends, Esc in a non-empty box does not skip, Esc then skips', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    await startAndMatch(ann, bob);
    await focusTop(ann);
    const path = await tabCycle(ann);
    const ids = path.map((p) => p.id);
    for (const id of ['mute', 'camera', 'devices', 'chat-input', 'send', 'skip', 'end', 'report', 'block'])
      expect(ids, `Tab order: ${ids.join(' > ')}`).toContain(id);
    expect(
      path.filter((p) => !p.ring).map((p) => p.id),
      'stops without a visible focus ring',
    ).toEqual([]);

    await tabTo(ann, 'chat-input');
    await ann.keyboard.type('hello by keyboard');
    await ann.keyboard.press('Enter');
    await bob.getByTestId('message').filter({ hasText: 'hello by keyboard' }).waitFor();

    // Esc while a draft is in the box clears nothing and skips nobody: the draft is sent afterwards, in the same call.
    await ann.keyboard.type('a draft');
    await ann.keyboard.press('Escape');
    await ann.keyboard.press('Enter');
    await bob.getByTestId('message').filter({ hasText: 'a draft' }).waitFor();
    expect(await ann.getByTestId('partner-name').textContent()).toBe('Bob');

    await ann.keyboard.press('Escape');
    await ann.getByTestId('screen-waiting').waitFor();
    await expectText(ann, 'notice', 'You skipped. Looking for someone new...');
  }, 60_000);
});
