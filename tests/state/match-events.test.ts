import { describe, expect, it } from 'vitest';
import type { MatchEvent } from '../../server/events/types';
import { POOL, TEST_LIMITS, openStore, type StoreFixture } from './fixtures/store';

/**
 * What the pairing scripts tell people: the interests a pair shares (in `matched`, whether it is
 * announced at once or once its call is ready), and a wait estimate only from recent real matches.
 */
type Matched = Extract<MatchEvent, { type: 'matched' }>;
type Queued = Extract<MatchEvent, { type: 'queued' }>;

async function enqueue(fx: StoreFixture, uid: string, interests?: string[]) {
  const r = await fx.store.enqueue({ uid, pool: POOL, interests });
  fx.clock.advance(10);
  return r;
}

async function last<T extends MatchEvent['type']>(fx: StoreFixture, uid: string, type: T) {
  return (await fx.view(uid)).events.filter((e) => e.type === type).at(-1) as Extract<MatchEvent, { type: T }> | undefined;
}

/** The raw JSON of the user's last event of `type`, as clients receive it. */
async function rawLast(fx: StoreFixture, uid: string, type: string): Promise<string> {
  const entries = await fx.redis.xrange(fx.store.keys.events(POOL, uid), '-', '+');
  return entries.map(([, f]) => f[1]!).findLast((json) => (JSON.parse(json) as { type: string }).type === type)!;
}

describe('matched: the interests both gave', () => {
  it('both users are told the interests they share, sorted, and nothing of the ones they do not', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'ann', ['music', 'tennis', 'art']);
    expect((await enqueue(fx, 'bob', ['films', 'tennis', 'music'])).match).not.toBeNull();
    const forAnn = (await last(fx, 'ann', 'matched')) as Matched;
    const forBob = (await last(fx, 'bob', 'matched')) as Matched;
    expect(forAnn.sharedInterests).toEqual(['music', 'tennis']);
    expect(forBob.sharedInterests).toEqual(['music', 'tennis']);
  });

  it('a pair with nothing in common is told an empty list (a JSON array, not an object)', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'ann');
    await enqueue(fx, 'bob', ['chess']);
    // Bob's interests never relax here; Cid has none and takes Ann.
    expect((await enqueue(fx, 'cid')).match).toMatchObject({ a: 'cid', b: 'ann' });
    expect((await last(fx, 'cid', 'matched'))?.sharedInterests).toEqual([]);
    expect(await rawLast(fx, 'ann', 'matched')).toContain('"sharedInterests":[]');
  });

  it('a match announced once its call is ready (LiveKit, ICE servers) carries the shared interests too', async () => {
    await using fx = await openStore({ wiring: { matchMode: () => ({ mode: 'livekit', defer: true }) } });
    await enqueue(fx, 'ann', ['music', 'chess']);
    const m = (await enqueue(fx, 'bob', ['chess', 'music'])).match!;
    expect(await last(fx, 'ann', 'matched')).toBeUndefined();
    expect((await fx.store.announce({ pool: POOL, matchId: m.matchId, mode: 'livekit', room: 'room_x' })).ok).toBe(true);
    expect((await last(fx, 'ann', 'matched'))?.sharedInterests).toEqual(['chess', 'music']);
    expect((await last(fx, 'bob', 'matched'))?.sharedInterests).toEqual(['chess', 'music']);
  });
});

describe('queued: a wait estimate only from recent real matches', () => {
  // TEST_LIMITS: at least 2 matches within 10 minutes. Interests never relax, so people with
  // interests nobody shares wait as the queue the estimates are about.
  async function matchOnce(fx: StoreFixture, n: number) {
    await enqueue(fx, `p${n}a`);
    expect((await enqueue(fx, `p${n}b`)).match).not.toBeNull();
  }
  const estimate = async (fx: StoreFixture, uid: string) => ((await last(fx, uid, 'queued')) as Queued).estimatedWaitMs;

  it('an empty pool, and a pool with fewer matches than WAIT_ESTIMATE_MIN_MATCHES, give no estimate', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'w1', ['chess']);
    expect(await last(fx, 'w1', 'queued')).toMatchObject({ position: 1, estimatedWaitMs: null });
    await matchOnce(fx, 1);
    await enqueue(fx, 'w2', ['darts']);
    expect(await last(fx, 'w2', 'queued')).toMatchObject({ position: 2, estimatedWaitMs: null });
  });

  it('enough matches within the window give an estimate from their rate, which stops once they are older than the window', async () => {
    await using fx = await openStore();
    await enqueue(fx, 'w1', ['chess']);
    await matchOnce(fx, 1);
    fx.clock.advance(60_000);
    await matchOnce(fx, 2);
    // 2 matches (4 people) over the 60,020 ms since the first: position 2 is about 30 s away.
    await enqueue(fx, 'w2', ['darts']);
    const ms = await estimate(fx, 'w2');
    expect(ms).toBeGreaterThan(29_000);
    expect(ms).toBeLessThan(31_000);
    // The same pool after a quiet spell longer than the window: no estimate again.
    fx.clock.advance(TEST_LIMITS.waitWindowMs);
    await enqueue(fx, 'w3', ['golf']);
    expect(await last(fx, 'w3', 'queued')).toMatchObject({ position: 3, estimatedWaitMs: null });
  });

  it('WAIT_ESTIMATE_MIN_MATCHES is the bar: with 3 required, two matches say nothing and a third gives an estimate', async () => {
    await using fx = await openStore({ limits: { waitMinMatches: 3 } });
    await matchOnce(fx, 1);
    await matchOnce(fx, 2);
    await enqueue(fx, 'w1', ['chess']);
    expect(await estimate(fx, 'w1')).toBeNull();
    await matchOnce(fx, 3);
    await enqueue(fx, 'w2', ['darts']);
    expect(await estimate(fx, 'w2')).toEqual(expect.any(Number));
  });
});
