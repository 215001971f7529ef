/** The landing page's online count: fetched while watched, refreshed, hidden when it fails. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStatsStore } from '../../client/src/stores/stats';

describe('the online count', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('refreshes every interval while watched and stops when no longer watched', async () => {
    let n = 0;
    const fetch = vi.fn(async () => ({ online: ++n, waiting: 0 }));
    const stats = createStatsStore(fetch, 10_000);
    expect(fetch).not.toHaveBeenCalled();
    const stop = stats.watch();
    await vi.advanceTimersByTimeAsync(0);
    expect(stats.online()).toEqual({ online: 1, waiting: 0 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stats.online()?.online).toBe(2);
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('hides the count when a fetch fails', async () => {
    const fetch = vi.fn().mockResolvedValueOnce({ online: 5, waiting: 1 }).mockRejectedValueOnce(new Error('NOT_FOUND'));
    const stats = createStatsStore(fetch, 10_000);
    const stop = stats.watch();
    await vi.advanceTimersByTimeAsync(0);
    expect(stats.online()?.online).toBe(5);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(stats.online()).toBeNull();
    stop();
  });
});
