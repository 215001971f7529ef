import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { closeAll, connectMany, enqueue, matchedWith, queue } from './support';

const RELAX_MS = 300;

describe('matchmaking: shared interests first, anyone after a while', () => {
  it('a waiting user with interests is not paired with a newcomer who shares none, but is with one who shares one', async () => {
    await using app = await startTestApp({ INTEREST_RELAX_MS: '600000' });
    const [music, sport, fan] = await connectMany(app.url, 3, ['Music', 'Sport', 'Fan']);
    try {
      expect((await enqueue(music!, { interests: ['music', 'films'] })).match).toBeNull();
      expect((await enqueue(sport!, { interests: ['sport'] })).match).toBeNull();
      expect(await queue(app)).toEqual([music!.userId, sport!.userId]);
      // Fan shares "films" with Music, and Music is preferred over Sport, who waits.
      expect((await enqueue(fan!, { interests: ['Films'] })).match).toMatchObject({ a: fan!.userId, b: music!.userId });
      expect(await queue(app)).toEqual([sport!.userId]);
      // Both are told what they have in common (as given, lower case), and nothing else.
      expect((await matchedWith(fan!, music!)).sharedInterests).toEqual(['films']);
      expect((await matchedWith(music!, fan!)).sharedInterests).toEqual(['films']);
    } finally {
      await closeAll([music!, sport!, fan!]);
    }
  });

  it('a newcomer prefers a later user who shares an interest over an earlier one who shares none', async () => {
    await using app = await startTestApp({ INTEREST_RELAX_MS: '600000' });
    const [plain, music, fan] = await connectMany(app.url, 3, ['Plain', 'Music', 'Fan']);
    try {
      await enqueue(plain!);
      await enqueue(music!, { interests: ['music'] });
      expect(await queue(app)).toEqual([plain!.userId, music!.userId]);
      expect((await enqueue(fan!, { interests: ['music'] })).match).toMatchObject({ b: music!.userId });
    } finally {
      await closeAll([plain!, music!, fan!]);
    }
  });

  it(`after INTEREST_RELAX_MS (${RELAX_MS} ms here) users whose interests differ are paired by the background sweep`, async () => {
    await using app = await startTestApp({ INTEREST_RELAX_MS: String(RELAX_MS) });
    const [music, sport] = await connectMany(app.url, 2, ['Music', 'Sport']);
    try {
      const t0 = Date.now();
      expect((await enqueue(music!, { interests: ['music'] })).match).toBeNull();
      expect((await enqueue(sport!, { interests: ['sport'] })).match).toBeNull();
      const m = await matchedWith(music!, sport!);
      // Paired for want of anyone better: nothing in common, and told so.
      expect(m.sharedInterests).toEqual([]);
      expect((await matchedWith(sport!, music!)).sharedInterests).toEqual([]);
      // Both had to have waited out the relax time (the second one, Sport, most of all).
      expect(m.at - t0).toBeGreaterThanOrEqual(RELAX_MS);
      expect(await queue(app)).toEqual([]);
    } finally {
      await closeAll([music!, sport!]);
    }
  });

  it('a user with interests and a newcomer without any are paired only once the first has waited INTEREST_RELAX_MS', async () => {
    await using app = await startTestApp({ INTEREST_RELAX_MS: String(RELAX_MS) });
    const [music, plain] = await connectMany(app.url, 2, ['Music', 'Plain']);
    try {
      const t0 = Date.now();
      await enqueue(music!, { interests: ['music'] });
      expect((await enqueue(plain!)).match).toBeNull();
      const m = await matchedWith(plain!, music!);
      expect(m.at - t0).toBeGreaterThanOrEqual(RELAX_MS);
    } finally {
      await closeAll([music!, plain!]);
    }
  });
});
