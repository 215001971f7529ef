/**
 * The pure parts of the edge: which text is well-formed, which paths name a file of the client,
 * how a flood is sampled, which pools get background work, and what a person reads when the
 * server cannot start.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { listen } from '../../server/http/listen';
import { pathOf } from '../../server/http/routes';
import { fileFor } from '../../server/http/static';
import { installLastResort } from '../../server/infra/last-resort';
import { createMetrics } from '../../server/infra/metrics';
import { reachable, redact } from '../../server/infra/startup';
import { Sampler } from '../../server/shared/sampler';
import { ActivePools } from '../../server/state/active-pools';
import { Keys } from '../../server/state/keys';
import { State } from '../../server/state/states';
import { illFormedInput, wellFormedText } from '../../server/trpc/well-formed';
import { createTestRedis } from '../support/databases';
import pino from 'pino';

describe('well-formed input', () => {
  it('lone surrogates and NUL anywhere in the input are found; paired surrogates (emoji) are fine', () => {
    expect(wellFormedText('hello 👋 мир')).toBe(true);
    expect(wellFormedText('abcdefgh\ud800')).toBe(false);
    expect(wellFormedText('\udc00abc')).toBe(false);
    expect(wellFormedText('a\u0000b')).toBe(false);
    expect(illFormedInput({ interests: ['ok', 'x\ud83d'] })).toMatch(/valid Unicode/);
    expect(illFormedInput({ ['k\ud800']: 1 })).toMatch(/valid Unicode/);
    expect(illFormedInput({ a: [1, true, null, { b: 'fine' }] })).toBeNull();
  });

  it('input nested deeper than any stack, or larger than the walk allows, is refused without recursion', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(illFormedInput(deep)).toBe('the input is too large');
    expect(illFormedInput(Array(50).fill('ok'), 10)).toBe('the input is too large');
  });
});

describe('the static path check', () => {
  const root = '/srv/dist';
  it('names files inside the root only, with an exact separator', () => {
    expect(fileFor(root, '/assets/app.js')).toBe('/srv/dist/assets/app.js');
    expect(fileFor(root, '/')).toBe('/srv/dist/');
    expect(fileFor(root, '/../dist-old/secret')).toBeNull();
    expect(fileFor(root, '/%2e%2e/%2e%2e/etc/passwd')).toBeNull();
    expect(fileFor(root, '/%')).toBeNull();
    expect(fileFor(root, '/a%00.js')).toBeNull();
  });

  it('reads the path of origin-form and absolute-form targets, and nothing else', () => {
    expect(pathOf('/trpc/x?batch=1')).toBe('/trpc/x');
    expect(pathOf('//')).toBe('//');
    expect(pathOf('http://host/healthz?x')).toBe('/healthz');
    expect(pathOf('*')).toBeNull();
    expect(pathOf(undefined)).toBeNull();
  });
});

describe('sampling a flood', () => {
  it('lets one through per key and interval, and says how many it skipped', () => {
    let now = 0;
    const s = new Sampler(1000, { now: () => now });
    expect(s.take('a')).toBe(0);
    expect(s.take('a')).toBeNull();
    expect(s.take('a')).toBeNull();
    expect(s.take('b')).toBe(0);
    now = 1000;
    expect(s.take('a')).toBe(2);
  });

  it('remembers a bounded number of keys', () => {
    const s = new Sampler(1000, { now: () => 0 }, 3);
    for (const k of ['a', 'b', 'c', 'd']) s.take(k);
    expect(s.take('a')).toBe(0); // forgotten when the fourth key came
  });
});

describe('background work only for pools with users', () => {
  it('an emptied pool drops out after the window; one with users, or audit records left, stays; the default pool always', async () => {
    await using kv = await createTestRedis();
    const redis = new Redis(kv.url);
    try {
      let now = 1_000_000;
      const keys = new Keys(kv.prefix);
      const active = new ActivePools(redis, keys, { now: () => now });
      await Promise.all(['de', 'fr', 'it'].map((p) => active.touch(p)));
      expect((await active.list()).sort()).toEqual(['de', 'fr', 'global', 'it']);
      await redis.zadd(keys.state('de', State.WAITING), 1, 'someone');
      await redis.xadd(keys.outbox('fr'), '*', 'e', '{}');
      now += 30_000;
      expect((await active.refresh(['de', 'fr', 'it'])).sort()).toEqual(['de', 'fr']);
      now += 45_000; // 'it' was last touched 75 s ago
      expect((await active.list()).sort()).toEqual(['de', 'fr', 'global']);
      await active.touch('it');
      expect(await active.list()).toContain('it');
    } finally {
      redis.disconnect();
    }
  });
});

describe('what a person reads when the server cannot start', () => {
  it('a port in use is one line with the fix', async () => {
    const taken = createServer();
    await listen(taken, 0, '127.0.0.1');
    const port = (taken.address() as AddressInfo).port;
    try {
      await expect(listen(createServer(), port, '127.0.0.1')).rejects.toThrow(
        `port ${port} is already in use on 127.0.0.1: stop what runs there, or set PORT to a free port.`,
      );
    } finally {
      taken.close();
    }
  });

  it('an unreachable dependency is named with its fix, never with its password', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(reachable('postgres', 'postgres://app:hunter2@db:5432/x', () => Promise.reject(refused))).rejects.toThrow(
      'Postgres at postgres://app:***@db:5432/x is not reachable (ECONNREFUSED): start Postgres there, fix DATABASE_URL, or unset it to use the embedded database.',
    );
    expect(redact('redis://:pw@h:6379')).toBe('redis://:***@h:6379');
  });
});

describe('the last resort', () => {
  it('counts and logs an error nothing caught, and the process goes on', async () => {
    const metrics = createMetrics();
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const emitter = new EventEmitter();
    const proc = emitter as unknown as NodeJS.Process;
    const uninstall = installLastResort(log, metrics, proc);
    emitter.emit('uncaughtException', new Error('boom in one request'));
    emitter.emit('unhandledRejection', new Error('a promise nobody awaited'));
    uninstall();
    const text = await metrics.registry.metrics();
    expect(text).toContain('uncaught_errors_total{kind="exception"} 1');
    expect(text).toContain('uncaught_errors_total{kind="rejection"} 1');
    expect(lines.join('')).toContain('boom in one request');
    expect(emitter.listenerCount('uncaughtException')).toBe(0);
  });
});
