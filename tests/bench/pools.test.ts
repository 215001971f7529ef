/**
 * The scaling bench's pools: their slots are the ones Redis Cluster computes (values from
 * `CLUSTER KEYSLOT`), and twelve pools over three masters land four on each.
 */
import { describe, expect, it } from 'vitest';
import { choosePools, evenRanges, masterOfPool, slotOfPool } from '../../bench/match/pools';

describe('the scaling bench pools', () => {
  it("computes a pool's slot as Redis Cluster does", () => {
    // redis-cli CLUSTER KEYSLOT '{p:en}' and so on, on Redis 7.0.
    expect(['en', 'global', 'any-eu', 'fr-na'].map(slotOfPool)).toEqual([14758, 12903, 14715, 1694]);
  });

  it('spreads twelve pools four to each of three masters, every name distinct', () => {
    const ranges = evenRanges(3);
    const pools = choosePools(12, ranges);
    expect(new Set(pools).size).toBe(12);
    const perMaster = new Map<string, number>();
    for (const p of pools) perMaster.set(masterOfPool(p, ranges), (perMaster.get(masterOfPool(p, ranges)) ?? 0) + 1);
    expect([...perMaster.values()]).toEqual([4, 4, 4]);
  });
});
