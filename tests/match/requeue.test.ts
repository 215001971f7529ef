import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import type { TestUser } from '../support/client';
import { closeAll, connectMany, enqueue, matchedWith, outbox, queue, stateOf } from './support';

// Interests never relax here: users with interests nobody shares sit in the queue as fixtures.
const STRICT = { INTEREST_RELAX_MS: '600000' };

/** A and B meet (B waited, A arrived); C and D then wait behind with interests nobody shares. */
async function pairWithOthersWaiting(url: string) {
  const [a, b, c, d, e] = await connectMany(url, 5, ['A', 'B', 'C', 'D', 'E']);
  await enqueue(b!);
  const m = (await enqueue(a!)).match!;
  await enqueue(c!, { interests: ['chess'] });
  await enqueue(d!, { interests: ['darts'] });
  return { a: a!, b: b!, c: c!, d: d!, e: e!, matchId: m.matchId, all: [a!, b!, c!, d!, e!] as TestUser[] };
}

describe('matchmaking: back to the queue', () => {
  it('after a skip the skipped partner waits at the front of the queue, the skipper at the back, and the next newcomer meets the partner', async () => {
    await using app = await startTestApp(STRICT);
    const { a, b, c, d, e, matchId, all } = await pairWithOthersWaiting(app.url);
    try {
      await a.api.match.skip.mutate({ matchId });
      expect(await b.next('partner_left')).toMatchObject({ matchId, reason: 'skip' });
      expect(await b.next('requeued')).toMatchObject({ front: true });
      expect(await a.next('requeued')).toMatchObject({ front: false });
      expect(await queue(app)).toEqual([b.userId, c.userId, d.userId, a.userId]);
      expect((await enqueue(e)).match).toMatchObject({ a: e.userId, b: b.userId });
    } finally {
      await closeAll(all);
    }
  });

  it('after an end the ender rests and the partner waits at the front of the queue', async () => {
    await using app = await startTestApp(STRICT);
    const { a, b, c, d, e, matchId, all } = await pairWithOthersWaiting(app.url);
    try {
      await a.api.match.end.mutate({ matchId });
      expect(await b.next('partner_left')).toMatchObject({ matchId, reason: 'end' });
      expect(await b.next('requeued')).toMatchObject({ front: true });
      expect(await stateOf(app, a)).toBe('IDLE');
      expect(a.events.some((x) => x.event.type === 'requeued')).toBe(false);
      expect(await queue(app)).toEqual([b.userId, c.userId, d.userId]);
      expect((await enqueue(e)).match).toMatchObject({ a: e.userId, b: b.userId });
    } finally {
      await closeAll(all);
    }
  });

  it('queued events carry the position, an estimated wait once WAIT_ESTIMATE_MIN_MATCHES matches have been made, and updates as the queue moves', async () => {
    await using app = await startTestApp({ ...STRICT, WAIT_ESTIMATE_MIN_MATCHES: '2' });
    const [c, d, p1, p2, p3, p4, f, g] = await connectMany(app.url, 8);
    const all = [c!, d!, p1!, p2!, p3!, p4!, f!, g!];
    try {
      await enqueue(c!, { interests: ['chess'] });
      expect(await c!.next('queued')).toMatchObject({ position: 1, estimatedWaitMs: null });
      await enqueue(d!, { interests: ['darts'] });
      expect(await d!.next('queued')).toMatchObject({ position: 2, estimatedWaitMs: null });
      // Two matches give the pool a match rate to estimate from.
      for (const [x, y] of [
        [p1!, p2!],
        [p3!, p4!],
      ] as const) {
        await enqueue(x);
        expect((await enqueue(y)).match).not.toBeNull();
      }
      await enqueue(f!, { interests: ['fencing'] });
      const q = await f!.next('queued');
      expect(q.position).toBe(3);
      expect(q.estimatedWaitMs).toEqual(expect.any(Number));
      expect(q.estimatedWaitMs).toBeGreaterThanOrEqual(0);
      // D leaves the queue; the background sweep tells F they moved up.
      await enqueue(g!, { interests: ['darts'] });
      expect(await f!.next('queued', (e) => e.position === 2)).toMatchObject({ position: 2 });
    } finally {
      await closeAll(all);
    }
  });

  it('users in different pools never meet: each waits for someone of their own language and region', async () => {
    await using app = await startTestApp(STRICT);
    const [en, de, enUs, en2, de2] = await connectMany(app.url, 5, ['En', 'De', 'EnUs', 'En2', 'De2']);
    const all = [en!, de!, enUs!, en2!, de2!];
    try {
      expect((await enqueue(en!, { language: 'en' })).match).toBeNull();
      expect((await enqueue(de!, { language: 'de' })).match).toBeNull();
      expect((await enqueue(enUs!, { language: 'en', region: 'na' })).match).toBeNull();
      expect(await queue(app, 'en')).toEqual([en!.userId]);
      expect(await queue(app, 'de')).toEqual([de!.userId]);
      expect(await queue(app, 'en-na')).toEqual([enUs!.userId]);
      await enqueue(en2!, { language: 'EN' });
      await enqueue(de2!, { language: 'de' });
      await matchedWith(en!, en2!);
      await matchedWith(de!, de2!);
      expect(await stateOf(app, enUs!)).toBe('WAITING');
      expect((await enUs!.api.session.me.query()).pool).toBe('en-na');
    } finally {
      await closeAll(all);
    }
  });

  it('a user who goes back to a pool they left is sent only what is new there, each event once, live', async () => {
    await using app = await startTestApp({ ...STRICT, CONNECTING_TIMEOUT_MS: '600000' });
    const [u] = await connectMany(app.url, 1, ['Mover']);
    try {
      await enqueue(u!, { language: 'fr' });
      await u!.api.match.cancel.mutate();
      await enqueue(u!, { language: 'it' });
      await u!.api.match.cancel.mutate();
      const before = u!.events.length;
      await enqueue(u!, { language: 'fr' });
      // The new WAITING arrives (the hub followed the user from 'it' back to 'fr'), and nothing of the
      // first stay in 'fr' comes again.
      await expect.poll(() => u!.events.slice(before).some((e) => e.event.type === 'state' && e.event.to === 'WAITING')).toBe(true);
      const ids = u!.events.map((e) => e.id);
      expect(new Set(ids).size, 'no event delivered twice').toBe(ids.length);
    } finally {
      await closeAll([u!]);
    }
  });

  it("changing pools carries the user's version on: no (user, version) pair repeats in the audit trail", async () => {
    // No background jobs: the audit drain would take the records out of the outbox read below.
    await using app = await startTestApp(STRICT, { background: false });
    const [u] = await connectMany(app.url, 1, ['Mover']);
    try {
      expect((await enqueue(u!, { language: 'fr' })).version).toBe(1);
      await u!.api.match.cancel.mutate();
      const back = await enqueue(u!, { language: 'it' });
      expect(back.version).toBe(3);
      await u!.api.match.cancel.mutate();
      expect((await enqueue(u!, { language: 'fr' })).version).toBe(5);
      const versions = [...(await outbox(app, 'fr')), ...(await outbox(app, 'it'))]
        .filter((r) => r.kind === 'transition' && r.userId === u!.userId)
        .map((r) => (r as { version: number }).version)
        .sort((a, b) => a - b);
      expect(versions).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await closeAll([u!]);
    }
  });
});
