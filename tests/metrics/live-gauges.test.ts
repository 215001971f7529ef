/** The scrape-time gauges reuse one pool read for READ_REUSE_MS, timed by the injected clock. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { observeLive } from '../../server/infra/live-gauges';

describe('live gauges', () => {
  it('users and queue_depth share one read within 250 ms of the injected clock, and read again after', async () => {
    let now = 1_000_000;
    let reads = 0;
    const registry = new Registry();
    observeLive(registry, {
      pools: () => {
        reads++;
        return Promise.resolve([{ pool: 'global', byState: { WAITING: 3 }, queueDepth: 2 }]);
      },
      subscriptions: () => 0,
      dependencies: () => ({}),
      clock: { now: () => now },
    });
    const text = await registry.metrics();
    expect(text).toMatch(/queue_depth\{pool="global"\} 2/);
    expect(text).toMatch(/users\{pool="global",state="WAITING"\} 3/);
    expect(reads).toBe(1);
    now += 249;
    await registry.metrics();
    expect(reads).toBe(1);
    now += 1;
    await registry.metrics();
    expect(reads).toBe(2);
  });
});
