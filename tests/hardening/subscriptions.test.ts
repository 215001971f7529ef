/**
 * Subscriptions end with their transport: a client that goes away, over WebSocket or over
 * HTTP (tRPC's SSE), leaves no stream, no Redis subscription and no heap behind.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { httpClient, ADULT } from '../support/client';
import { openRaw, subscribe } from './raw-ws';

const ROUNDS = 2000;
const AT_ONCE = 50;
// What a leaked stream cost on the landed main: ~37 KB each (138 -> 303 MB over 4,500 requests).
// 2,000 leaked would be ~70 MB; the bound leaves room for the test's own garbage.
const HEAP_GROWTH_MAX = 16 * 1024 ** 2;
// 2,200 requests each: ~10 s alone, several times that beside the other suites on two cores.
const VOLUME_TEST_MS = 120_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function channelSubscribers(app: TestApp, uid: string): Promise<number> {
  const r = new Redis(app.redisUrl);
  try {
    const [, n] = (await r.pubsub('NUMSUB', app.server.services.store.keys.notify('global', uid))) as [string, number];
    return Number(n);
  } finally {
    r.disconnect();
  }
}

async function rounds(n: number, one: () => Promise<void>): Promise<void> {
  for (let i = 0; i < n; i += AT_ONCE) await Promise.all(Array.from({ length: Math.min(AT_ONCE, n - i) }, one));
}

/** Warms up, then runs `once` ROUNDS times: no stream, no Redis subscription, no heap left after. */
async function leavesNothingBehind(app: TestApp, userId: string, once: () => Promise<void>): Promise<void> {
  await rounds(200, once);
  await vi.waitFor(() => expect(app.server.services.hub.watching).toBe(0), { timeout: 5000 });
  const baseline = heapAfterGc();
  await rounds(ROUNDS, once);
  await vi.waitFor(() => expect(app.server.services.hub.watching).toBe(0), { timeout: 5000 });
  expect(await channelSubscribers(app, userId)).toBe(0);
  expect(heapAfterGc() - baseline).toBeLessThan(HEAP_GROWTH_MAX);
}

describe('subscriptions end with their transport', () => {
  it(
    '2,000 SSE subscriptions opened and aborted leave no stream, no Redis subscription and no heap behind',
    async () => {
      // 50 requests of one user at a time.
      await using app = await startTestApp({ WS_MAX_PER_USER: '100' });
      const { token, userId } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
      const url = `${app.url}/trpc/match.events?input=${encodeURIComponent(JSON.stringify({}))}`;
      const once = async () => {
        const ac = new AbortController();
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: ac.signal });
        expect(res.status).toBe(200);
        const reader = res.body!.getReader();
        await reader.read(); // the stream is open (tRPC's `connected` event)
        ac.abort();
        await reader.cancel().catch(() => undefined);
      };
      await leavesNothingBehind(app, userId, once);
    },
    VOLUME_TEST_MS,
  );

  it(
    '2,000 WebSocket subscriptions whose sockets close leave no stream, no Redis subscription and no heap behind',
    async () => {
      // 50 sockets of one user at a time.
      await using app = await startTestApp({ WS_MAX_PER_USER: '100' });
      const { token, userId } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
      const once = async () => {
        const sock = await openRaw(app.wsUrl, token);
        sock.send(subscribe(1));
        await sock.reply((r) => r.id === 1 && r.result?.type === 'started');
        await sock[Symbol.asyncDispose]();
      };
      await leavesNothingBehind(app, userId, once);
    },
    VOLUME_TEST_MS,
  );

  it('a user holds at most WS_MAX_PER_USER x WS_MAX_SUBSCRIPTIONS live streams, SSE requests included: one more is refused', async () => {
    await using app = await startTestApp({ WS_MAX_PER_USER: '2', WS_MAX_SUBSCRIPTIONS: '2' });
    const { token, userId } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const url = `${app.url}/trpc/match.events?input=${encodeURIComponent(JSON.stringify({}))}`;
    const open = async () => {
      const ac = new AbortController();
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: ac.signal });
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      return { first, close: () => ac.abort() };
    };
    const held = [await open(), await open(), await open(), await open()];
    await vi.waitFor(() => expect(app.server.services.hub.streamsOf(userId)).toBe(4));
    const fifth = await open();
    expect(fifth.first).toContain('TOO_MANY_SUBSCRIPTIONS');
    for (const h of [...held, fifth]) h.close();
  });
});
