/**
 * The event hub against a real Redis: live wake-ups, the safety check that makes up for a lost
 * notification, and streams that end at once when returned.
 */
import { mgetAcross, publish } from '../../server/infra/redis';
import { describe, expect, it } from 'vitest';
import { EventHub, type PoolLookup } from '../../server/events/hub';
import { after } from '../../server/events/stream';
import type { MatchEvent } from '../../server/events/types';
import { Keys } from '../../server/state/keys';
import { createTestRedis } from '../support/databases';
import { testClusterNodes } from '../support/redis-target';

const DEFAULT_POOL = 'global';
/**
 * Events taken from their notifications without a read: one Redis only. On a cluster every
 * notification makes the reader read (the hub cannot tell when a shard's subscriber connection was
 * lost: see EventHub.generation).
 */
const ONE_REDIS = testClusterNodes() === undefined;

async function setup(safetyPollMs: number) {
  const kv = await createTestRedis();
  const redis = await kv.connect('hub-test');
  const sub = await kv.connect('hub-sub-test');
  const keys = new Keys(kv.prefix);
  // Where a user's history is, as the state store answers it (upool key, default pool).
  const pools: PoolLookup = {
    poolOf: async (uid) => (await redis.get(keys.userPool(uid))) ?? DEFAULT_POOL,
    poolsOf: async (uids) =>
      (
        await mgetAcross(
          redis,
          uids.map((u) => keys.userPool(u)),
        )
      ).map((p) => p ?? DEFAULT_POOL),
  };
  const hub = new EventHub(redis, sub, keys, pools, { safetyPollMs });
  /** Appends an event to the user's history as the state scripts do, without announcing it. */
  const write = async (uid: string, text: string, pool = DEFAULT_POOL) => {
    const event: MatchEvent = { type: 'notice', code: 'test', message: text, at: Date.now() };
    return `${pool}|${await redis.xadd(keys.events(pool, uid), '*', 'e', JSON.stringify(event))}`;
  };
  /** A bare notice on the user's channel in `pool`: `to` (their pool now) wakes or moves their streams. */
  const announce = (uid: string, pool = DEFAULT_POOL, to = pool) => publish(redis, keys.notify(pool, uid), to);
  /**
   * Appends events and publishes them with their payloads in one notification, a line each, as
   * the state scripts do for one call's events. Returns their tracked ids.
   */
  const pushAll = async (uid: string, texts: string[], pool = DEFAULT_POOL) => {
    const lines: string[] = [];
    for (const message of texts) {
      const json = JSON.stringify({ type: 'notice', code: 'test', message, at: Date.now() } satisfies MatchEvent);
      lines.push(`${pool}|${await redis.xadd(keys.events(pool, uid), '*', 'e', json)}|${json}`);
    }
    await publish(redis, keys.notify(pool, uid), lines.join('\n'));
    return lines.map((l) => l.slice(0, l.indexOf('|', pool.length + 1)));
  };
  const push = async (uid: string, text: string, pool = DEFAULT_POOL) => (await pushAll(uid, [text], pool))[0]!;
  /** Counts the hub's reads of histories. */
  let reads = 0;
  const read = hub.read.bind(hub);
  hub.read = (...a) => {
    reads++;
    return read(...a);
  };
  return {
    hub,
    redis,
    sub,
    keys,
    write,
    announce,
    push,
    pushAll,
    /** A stream that has read its (empty) history and waits in next(): it takes offers from now on. */
    async caughtUp(uid: string) {
      const stream = await hub.open(uid, null);
      const first = stream.next();
      await expect.poll(() => reads).toBe(1);
      return { stream, first };
    },
    reads: () => reads,
    async [Symbol.asyncDispose]() {
      redis.disconnect();
      sub.disconnect();
      await kv.cleanup();
    },
  };
}

const text = (r: IteratorResult<{ id: string; event: MatchEvent }>) =>
  r.done ? null : r.value.event.type === 'notice' ? r.value.event.message : r.value.event.type;

describe('event hub', () => {
  it('an announced event reaches the stream at once', async () => {
    await using t = await setup(60_000);
    const stream = await t.hub.open('u1', null);
    const next = stream.next();
    const id = await t.write('u1', 'hello');
    await t.announce('u1');
    const r = await next;
    expect(text(r)).toBe('hello');
    expect(r.done ? null : r.value.id).toBe(id);
    await stream.return();
  });

  it('an event whose announcement was lost is delivered by the safety check', async () => {
    await using t = await setup(300);
    const stream = await t.hub.open('u2', null);
    const next = stream.next();
    await t.write('u2', 'never announced');
    expect(text(await next)).toBe('never announced');
    await stream.return();
  });

  it('a user who moved pools without an announcement is read in the new pool, from its start', async () => {
    await using t = await setup(300);
    await t.write('u3', 'old pool');
    const stream = await t.hub.open('u3', null); // from now: "old pool" is not delivered
    const next = stream.next();
    await t.redis.set(t.keys.userPool('u3'), 'fr-eu');
    const id = await t.write('u3', 'new pool', 'fr-eu');
    const r = await next;
    expect(text(r)).toBe('new pool');
    expect(r.done ? null : r.value.id).toBe(id);
    await stream.return();
  });

  it('a user who moved pools is followed: told by the pool they left, the hub listens in the new one', async () => {
    await using t = await setup(3_600_000); // no safety check within the test: only notifications deliver
    const stream = await t.hub.open('u10', null);
    const next = stream.next();
    await t.redis.set(t.keys.userPool('u10'), 'fr-eu');
    await t.announce('u10', DEFAULT_POOL, 'fr-eu'); // what depart-2.lua publishes
    const id = await t.push('u10', 'in the new pool', 'fr-eu');
    const r = await next;
    expect(r.done ? null : r.value.id).toBe(id);
    // Listening there now: the next event arrives by its own notification.
    const later = stream.next();
    expect(text(await Promise.all([later, t.push('u10', 'later', 'fr-eu')]).then(([x]) => x))).toBe('later');
    await stream.return();
  });

  it('resumes after lastEventId, and `select` maps events or skips them', async () => {
    await using t = await setup(60_000);
    const first = await t.write('u4', 'one');
    await t.write('u4', 'skip me');
    await t.write('u4', 'three');
    const stream = await t.hub.open('u4', first, null, (id, json) => {
      const e = JSON.parse(json) as MatchEvent;
      return e.type === 'notice' && e.message !== 'skip me' ? `${id}:${e.message}` : undefined;
    });
    const r = await stream.next();
    expect(r.done ? null : r.value).toMatch(/^global\|\d+-\d+:three$/);
    await stream.return();
  });

  it('returning a stream ends its pending next() at once and releases the user once no stream is left', async () => {
    await using t = await setup(60_000);
    const a = await t.hub.open('u5', null);
    const b = await t.hub.open('u5', null);
    expect(t.hub.watching).toBe(1);
    const pending = a.next();
    await a.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(t.hub.watching).toBe(1);
    await b.return();
    expect(t.hub.watching).toBe(0);
  });

  it.skipIf(!ONE_REDIS)('a caught-up stream takes each event from its notification, in order, without reading the history again', async () => {
    await using t = await setup(60_000);
    const { stream, first } = await t.caughtUp('u7');
    const ids = [await t.push('u7', 'one'), await t.push('u7', 'two'), await t.push('u7', 'three')];

    const got = [await first, await stream.next(), await stream.next()];

    expect(got.map(text)).toEqual(['one', 'two', 'three']);
    expect(got.map((r) => (r.done ? null : r.value.id))).toEqual(ids);
    expect(t.reads()).toBe(1);
    await stream.return();
  });

  it.skipIf(!ONE_REDIS)("one notification may carry several events (a script call's, a line each): all are taken, in order, without a read", async () => {
    await using t = await setup(60_000);
    const { stream, first } = await t.caughtUp('u9');
    const ids = await t.pushAll('u9', ['one', 'two\nstill two', 'three']);

    const got = [await first, await stream.next(), await stream.next()];

    expect(got.map(text)).toEqual(['one', 'two\nstill two', 'three']);
    expect(got.map((r) => (r.done ? null : r.value.id))).toEqual(ids);
    expect(t.reads()).toBe(1);
    await stream.return();
  });

  // The mechanics (killing the one subscriber connection, its 'ready') are those of one Redis.
  it.skipIf(!ONE_REDIS)('events published while the subscriber connection was down are read again, in order, before newer ones', async () => {
    await using t = await setup(60_000);
    const { stream, first } = await t.caughtUp('u8');
    const subId = /id=(\d+) [^\n]*name=\S*hub-sub-test/.exec(String(await t.redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub')))![1]!;
    const ready = new Promise((r) => t.sub.once('ready', r));
    await t.redis.call('CLIENT', 'KILL', 'ID', subId);
    await t.push('u8', 'while down');
    await ready;
    await expect.poll(() => t.reads()).toBeGreaterThan(1);
    await t.push('u8', 'after');

    expect(text(await first)).toBe('while down');
    expect(text(await stream.next())).toBe('after');
    await stream.return();
  });

  it('an aborted signal ends the stream', async () => {
    await using t = await setup(60_000);
    const ac = new AbortController();
    const stream = await t.hub.open('u6', null, ac.signal);
    const pending = stream.next();
    ac.abort();
    expect((await pending).done).toBe(true);
    expect(t.hub.watching).toBe(0);
  });
});

describe('stream ids', () => {
  it('are ordered as numbers: milliseconds first, then the sequence', () => {
    const ordered = ['0-0', '0-1', '9-0', '10-0', '10-2', '10-10', '1795397850531-0', '1795397850531-1', '1795397850532-0', '17953978505310-0'];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) expect(after(ordered[i]!, ordered[j]!)).toBe(i > j);
    }
  });
});
