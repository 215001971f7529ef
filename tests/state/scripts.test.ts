import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scripts, librariesFor } from '../../server/state/scripts';
import { allPairs } from '../../server/state/states';
import { startRedisServer } from '../support/redis-server';
import { POOL, openStore, type StoreFixture } from './fixtures/store';

const DIR = join(import.meta.dirname, '../../server/state/scripts');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');
const LIBS = ['lib.lua', 'match-lib.lua', 'presence-lib.lua'];

describe('which libraries a script carries', () => {
  const libs = LIBS.map(read);
  const carried = (file: string) => librariesFor(libs, read(file)).map((l) => LIBS[libs.indexOf(l)]);

  it('a single-user script carries only lib.lua', () => {
    expect(carried('transition-2.lua')).toEqual(['lib.lua']);
    expect(carried('cancel-2.lua')).toEqual(['lib.lua']);
  });

  it('a pair script carries the matching library; presence also needs what presence-lib uses from it', () => {
    expect(carried('leave-2.lua')).toEqual(['lib.lua', 'match-lib.lua']);
    expect(carried('presence-2.lua')).toEqual(['lib.lua', 'match-lib.lua', 'presence-lib.lua']);
  });
});

describe('scripts as a Redis Functions library', () => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStore();
  });
  afterAll(async () => {
    await fx?.[Symbol.asyncDispose]();
  });

  it('a Redis that lost the library (restarted empty) gets it on the next call, which applies once', async () => {
    await fx.store.transition({ uid: 'reload-1', pool: POOL, to: 'WAITING' });
    await Promise.all(fx.masters().map((m) => m.function('DELETE', Scripts.libraryName())));

    const r = await fx.store.transition({ uid: 'reload-1', pool: POOL, to: 'IDLE' });

    expect(r).toEqual({ from: 'WAITING', state: 'IDLE', version: 2 });
    expect((await fx.outbox()).filter((e) => e.kind === 'transition' && e.userId === 'reload-1')).toHaveLength(2);
    for (const m of fx.masters()) expect(await m.function('LIST', 'LIBRARYNAME', Scripts.libraryName())).toHaveLength(1);
  });

  it('many calls racing a lost library all apply, each once', async () => {
    await Promise.all(fx.masters().map((m) => m.function('DELETE', Scripts.libraryName())));
    const uids = Array.from({ length: 20 }, (_, i) => `race-${i}`);

    await Promise.all(uids.map((uid) => fx.store.transition({ uid, pool: POOL, to: 'WAITING' })));

    for (const uid of uids) expect((await fx.view(uid)).hash).toMatchObject({ state: 'WAITING', version: '1' });
  });
});

describe("the other domains' scripts", () => {
  it.each(['function', 'eval'] as const)('live in the one library (%s mode) and run after Redis lost it', async (scriptMode) => {
    await using fx = await openStore({ scriptMode });
    const lock = `${fx.prefix}:test-lock`;
    await fx.redis.set(lock, 'me', 'PX', 60_000);
    expect(await fx.store.scripts.call('presence_lock_renew', [lock], ['me', 60_000])).toBe(1); // loads the library if it must
    if (scriptMode === 'function') {
      for (const m of fx.masters()) {
        const [lib] = (await m.function('LIST', 'LIBRARYNAME', Scripts.libraryName())) as unknown[][];
        expect(JSON.stringify(lib)).toContain(`${Scripts.libraryName()}_presence_lock_renew`);
      }
      await Promise.all(fx.masters().map((m) => m.function('DELETE', Scripts.libraryName())));
    }

    expect(await fx.store.scripts.call('presence_lock_renew', [lock], ['someone else', 5000])).toBe(0);
    expect(await fx.store.scripts.call('presence_lock_renew', [lock], ['me', 5000])).toBe(1);
    expect(await fx.redis.pttl(lock)).toBeLessThanOrEqual(5000);
    expect(await fx.store.scripts.call('presence_lock_release', [lock], ['me'])).toBe(1);
    expect(await fx.redis.exists(lock)).toBe(0);
    await expect(fx.store.scripts.call('no_such_script', [lock], [])).rejects.toThrow(/No script/);
  });
});

describe('scripts with EVALSHA (a Redis without functions)', () => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await openStore({ scriptMode: 'eval' });
  });
  afterAll(async () => {
    await fx?.[Symbol.asyncDispose]();
  });

  it.each(allPairs().filter((p) => p.allowed))('$from -> $to applies the same way', async ({ from, to }) => {
    const uid = `eval-${from}-${to}`;
    await fx.store.force({ uid, pool: POOL, to: from, actor: 'test', reason: 'setup' });

    const r = await fx.store.transition({ uid, pool: POOL, to });

    expect(r).toEqual({ from, state: to, version: 2 });
    expect((await fx.view(uid)).sets).toEqual([to]);
  });

  it('a pair operation (enqueue that matches) runs too', async () => {
    await fx.store.enqueue({ uid: 'eval-a', pool: POOL, name: 'A' });
    const r = await fx.store.enqueue({ uid: 'eval-b', pool: POOL, name: 'B' });

    expect(r).toMatchObject({ state: 'CONNECTING' });
    expect((await fx.view('eval-a')).hash.state).toBe('CONNECTING');
  });
});

describe('scripts on a Redis without functions (FCALL and FUNCTION unknown, as before Redis 7)', () => {
  it('the store finds out on its first call, switches to EVALSHA for good, and the call applies once', async () => {
    await using server = await startRedisServer({ extraArgs: ['--rename-command', 'FCALL', '', '--rename-command', 'FUNCTION', ''] });
    const fx = await openStore({ url: server.url });
    try {
      expect(await fx.store.transition({ uid: 'old-1', pool: POOL, to: 'WAITING' })).toEqual({ from: 'IDLE', state: 'WAITING', version: 1 });
      expect(await fx.store.transition({ uid: 'old-1', pool: POOL, to: 'IDLE' })).toEqual({ from: 'WAITING', state: 'IDLE', version: 2 });
      expect((await fx.outbox()).filter((e) => e.kind === 'transition' && e.userId === 'old-1')).toHaveLength(2);
    } finally {
      await fx[Symbol.asyncDispose]();
    }
  });
});

describe('notifications', () => {
  it("a call's events for one user are published as one message, a line per event in history order", async () => {
    await using fx = await openStore();
    const got: Array<[string, string]> = [];
    const channel = (uid: string) => fx.store.keys.notify(POOL, uid);
    // Sharded pub/sub on a cluster (the pool's shard), plain on one Redis.
    const sub = fx.redis instanceof Redis ? fx.redis.duplicate() : fx.redis.duplicate();
    sub.on(sub instanceof Redis ? 'message' : 'smessage', (c: string, message: string) => got.push([c, message]));
    await (sub instanceof Redis ? sub.subscribe(channel('a'), channel('b')) : sub.ssubscribe(channel('a'), channel('b')));
    try {
      await fx.store.enqueue({ uid: 'b', pool: POOL });
      await fx.store.enqueue({ uid: 'a', pool: POOL });
      await expect.poll(() => got.length).toBe(3);
      // b: WAITING + queued; then a: WAITING, CONNECTING, matched, and b: CONNECTING, matched.
      const lines = (uid: string) => got.filter(([c]) => c === channel(uid)).map(([, m]) => m.split('\n'));
      expect(lines('b').map((m) => m.length)).toEqual([2, 2]);
      expect(lines('a').map((m) => m.length)).toEqual([3]);
      const ids = lines('a')[0]!.map((l) => l.split('|')[1]);
      const history = (await fx.redis.xrange(fx.store.keys.events(POOL, 'a'), '-', '+')).map(([id]) => id);
      expect(ids).toEqual(history);
      expect(lines('a')[0]!.map((l) => (JSON.parse(l.slice(l.indexOf('|', l.indexOf('|') + 1) + 1)) as { type: string }).type)).toEqual([
        'state',
        'state',
        'matched',
      ]);
    } finally {
      sub.disconnect();
    }
  });
});

describe('declared states (the inStates middleware)', () => {
  it('a call is refused with WRONG_STATE when the user is not in a state it declared, before any write', async () => {
    await using fx = await openStore();
    await fx.store.enqueue({ uid: 'a', pool: POOL });
    await fx.store.cancel({ uid: 'a', pool: POOL });
    const before = { view: await fx.view('a'), outbox: await fx.outboxLength() };

    // The script's own rule would let an IDLE user enqueue; the declaration says only CONNECTING.
    await expect(fx.store.enqueue({ uid: 'a', pool: POOL, allowed: ['CONNECTING'] })).rejects.toMatchObject({ code: 'INVALID_TRANSITION', from: 'IDLE' });
    await expect(fx.store.joined({ uid: 'a', pool: POOL, matchId: 'm', allowed: ['CONNECTING', 'IN_CALL'] })).rejects.toMatchObject({
      code: 'NOT_IN_MATCH',
      state: 'IDLE',
    });

    expect(await fx.view('a')).toEqual(before.view);
    expect(await fx.outboxLength()).toBe(before.outbox);
    expect((await fx.store.enqueue({ uid: 'a', pool: POOL, allowed: ['IDLE'] })).state).toBe('WAITING');
  });
});
