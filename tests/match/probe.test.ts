import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { connectMany, enqueue, queue, stateOf, outbox } from './support';

describe('probe', () => {
  it('enqueue retry', async () => {
    await using app = await startTestApp({}, { background: false });
    const [a] = await connectMany(app.url, 1);
    const r1 = await enqueue(a!, { idempotencyKey: 'key-12345678' });
    console.log('r1', r1);
    const r2 = await enqueue(a!, { idempotencyKey: 'key-12345678' }).catch((e: unknown) => e);
    console.log('r2', r2);
    console.log((await outbox(app)).length);
  });
  it('starvation behind scan window', async () => {
    await using app = await startTestApp({ MATCH_SCAN_LIMIT: '2' });
    const [x1, x2, y, z] = await connectMany(app.url, 4);
    for (const [u, v] of [[x1, x2], [x1, y], [x1, z], [x2, y], [x2, z]] as const) await u!.api.match.block.mutate({ userId: v!.userId });
    for (const u of [x1, x2, y, z]) console.log((await enqueue(u!)).match);
    await new Promise((r) => setTimeout(r, 1000));
    console.log(await queue(app), [x1, x2, y, z].map((u) => u!.userId));
    console.log(await stateOf(app, y!));
  });
  it('block before pool exists', async () => {
    await using app = await startTestApp();
    const [a, b] = await connectMany(app.url, 2);
    await a!.api.match.block.mutate({ userId: b!.userId });
    console.log((await enqueue(a!, { language: 'de' })).match);
    console.log((await enqueue(b!, { language: 'de' })).match);
  });
});
