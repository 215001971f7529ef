import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { closeAll, connectMany, enqueue } from './support';

describe('matchmaking metrics', () => {
  it('/metrics counts each match and how long both of its users waited', async () => {
    await using app = await startTestApp({}, { background: false });
    const [a, b] = await connectMany(app.url, 2, ['A', 'B']);
    try {
      await enqueue(a!);
      await new Promise((r) => setTimeout(r, 30));
      expect((await enqueue(b!)).match).not.toBeNull();

      const text = await (await fetch(`${app.url}/metrics`)).text();
      expect(text).toMatch(/^matches_total 1$/m);
      expect(text).toMatch(/^match_wait_seconds_count 2$/m);
      const sum = Number(/^match_wait_seconds_sum (\S+)$/m.exec(text)![1]);
      expect(sum).toBeGreaterThanOrEqual(0.025);
    } finally {
      await closeAll([a!, b!]);
    }
  });
});
