import { describe, expect, it } from 'vitest';
import { tailBursts } from '../../bench/lib/stats';

describe('benchmark statistics: tail bursts', () => {
  const steady = (n: number) => Array.from({ length: n }, (_, i) => ({ ms: 3, doneAt: i * 2 + 3 }));

  it('a stall shows as one burst: everything queued behind it completes together', () => {
    // 1,000 arrivals 2 ms apart; arrivals 500..509 waited for a 30 ms stall that ended at t = 1,030.
    const samples = steady(1000).map((s, i) => (i >= 500 && i < 510 ? { ms: 1030 - i * 2, doneAt: 1030 + (i - 500) * 0.1 } : s));
    expect(tailBursts(samples)).toEqual({ slowest: 10, bursts: 1, largest: 10 });
  });

  it('unlucky requests spread over time are as many bursts as requests', () => {
    const samples = steady(1000).map((s, i) => (i % 100 === 0 ? { ms: 20, doneAt: s.doneAt + 17 } : s));
    expect(tailBursts(samples)).toEqual({ slowest: 10, bursts: 10, largest: 1 });
  });
});
