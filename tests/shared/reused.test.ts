import { describe, expect, it } from 'vitest';
import { Reused } from '../../server/shared/reused';

describe('Reused', () => {
  it('reads once per interval, shares a read in progress, and forgets a failed read', async () => {
    let now = 0;
    let reads = 0;
    let fail = false;
    const r = new Reused({ now: () => now }, 100, () => {
      reads++;
      return fail ? Promise.reject(new Error('down')) : Promise.resolve(reads);
    });
    expect(await Promise.all([r.get(), r.get()])).toEqual([1, 1]);
    now = 99;
    expect(await r.get()).toBe(1);
    now = 100;
    fail = true;
    await expect(r.get()).rejects.toThrow('down');
    fail = false;
    expect(await r.get()).toBe(3);
    expect(await r.fresh()).toBe(4);
    expect(reads).toBe(4);
  });
});
