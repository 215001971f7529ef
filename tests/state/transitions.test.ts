import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidTransitionError, VersionConflictError } from '../../server/state/errors';
import { allPairs, type State } from '../../server/state/states';
import { POOL, openStore, type StoreFixture } from './fixtures/store';

let fx: StoreFixture;
beforeAll(async () => {
  fx = await openStore();
});
afterAll(async () => {
  await fx?.[Symbol.asyncDispose]();
});

const IN_MATCH: State[] = ['CONNECTING', 'IN_CALL', 'DISCONNECTING'];

/** Puts a fresh user in `state` the admin way; users in a match get match fields to be cleared later. */
async function userIn(state: State, uid: string) {
  await fx.store.force({ uid, pool: POOL, to: state, actor: 'test', reason: 'setup' });
  if (IN_MATCH.includes(state)) await fx.redis.hset(fx.store.keys.user(POOL, uid), { matchId: 'm-1', matchedWith: 'partner-1', joined: 0 });
  fx.clock.advance(1000);
  return fx.view(uid);
}

function label(s: State) {
  return s.toLowerCase().replace('_', ' ');
}

describe('StateStore.transition on Redis, for every (from, to) pair', () => {
  const allowed = allPairs().filter((p) => p.allowed);
  const refused = allPairs().filter((p) => !p.allowed);

  it.each(allowed)('$from -> $to applies once: version +1, one state set, one audit record, one event', async ({ from, to }) => {
    const uid = `ok-${from}-${to}`;
    const before = await userIn(from, uid);
    const outboxBefore = await fx.outboxLength();
    const version = Number(before.hash.version);

    const r = await fx.store.transition({ uid, pool: POOL, to });

    expect(r).toEqual({ from, state: to, version: version + 1 });
    const after = await fx.view(uid);
    expect(after.sets).toEqual([to]);
    expect(await fx.score(uid, to)).toBe(fx.clock.now());
    expect(after.hash).toMatchObject({ state: to, previousState: from, version: String(version + 1), lastStateChange: String(fx.clock.now()) });
    if (to === 'IDLE' || to === 'WAITING') {
      expect(after.hash).not.toHaveProperty('matchId');
      expect(after.hash).not.toHaveProperty('matchedWith');
    }
    if (to === 'WAITING') expect(after.hash.waitingSince).toBe(String(fx.clock.now()));

    const outbox = await fx.outbox();
    expect(outbox).toHaveLength(outboxBefore + 1);
    expect(outbox.at(-1)).toMatchObject({ kind: 'transition', userId: uid, from, to, version: version + 1, pool: POOL, at: fx.clock.now() });

    expect(after.events).toHaveLength(before.events.length + 1);
    expect(after.events.at(-1)).toMatchObject({ type: 'state', from, to, version: version + 1 });
  });

  it.each(refused)('$from -> $to is refused, names both states and changes nothing', async ({ from, to }) => {
    const uid = `no-${from}-${to}`;
    const before = await userIn(from, uid);
    const outboxBefore = await fx.outboxLength();

    const err = await fx.store.transition({ uid, pool: POOL, to }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(InvalidTransitionError);
    expect(err).toMatchObject({ code: 'INVALID_TRANSITION', from, to, details: { from, to } });
    expect((err as Error).message).toContain(label(from));
    expect((err as Error).message).toContain(label(to));
    expect(await fx.view(uid)).toEqual(before);
    expect(await fx.outboxLength()).toBe(outboxBefore);
  });
});

describe('compare-and-set on the version', () => {
  it('applies when expectedVersion is the current version', async () => {
    const before = await userIn('IDLE', 'cas-ok');
    const v = Number(before.hash.version);
    await expect(fx.store.transition({ uid: 'cas-ok', pool: POOL, to: 'WAITING', expectedVersion: v })).resolves.toMatchObject({ version: v + 1 });
  });

  it('refuses a stale expectedVersion with VersionConflictError and changes nothing', async () => {
    const before = await userIn('IDLE', 'cas-stale');
    const v = Number(before.hash.version);
    const outboxBefore = await fx.outboxLength();

    const err = await fx.store.transition({ uid: 'cas-stale', pool: POOL, to: 'WAITING', expectedVersion: v - 1 }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(VersionConflictError);
    expect(err).toMatchObject({ code: 'VERSION_CONFLICT', details: { expected: v - 1, actual: v } });
    expect(await fx.view('cas-stale')).toEqual(before);
    expect(await fx.outboxLength()).toBe(outboxBefore);
  });

  it('lets exactly one of two writers that read the same version win', async () => {
    const before = await userIn('WAITING', 'cas-race');
    const v = Number(before.hash.version);
    const other = await fx.secondStore();
    const results = await Promise.allSettled([
      fx.store.transition({ uid: 'cas-race', pool: POOL, to: 'IDLE', expectedVersion: v }),
      other.transition({ uid: 'cas-race', pool: POOL, to: 'CONNECTING', expectedVersion: v }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = results.find((r) => r.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(VersionConflictError);
    expect((await fx.view('cas-race')).hash.version).toBe(String(v + 1));
  });
});

describe('idempotency', () => {
  it('a transition repeated with the same op id applies once and returns the first answer', async () => {
    const before = await userIn('IDLE', 'op-twice');
    const v = Number(before.hash.version);
    const outboxBefore = await fx.outboxLength();
    const first = await fx.store.transition({ uid: 'op-twice', pool: POOL, to: 'WAITING', op: 'op-1' });
    const again = await fx.store.transition({ uid: 'op-twice', pool: POOL, to: 'WAITING', op: 'op-1' });
    expect(again).toEqual(first);
    expect((await fx.view('op-twice')).hash.version).toBe(String(v + 1));
    expect(await fx.outboxLength()).toBe(outboxBefore + 1);
  });
});
