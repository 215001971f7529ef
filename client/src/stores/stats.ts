/**
 * How many people are online, for the landing page: fetched while someone watches (the landing
 * page mounts a watcher) and every REFRESH_MS after, never in the background of a call. A failed
 * fetch hides the count rather than show a stale or made-up number.
 */
import { createSignal } from 'solid-js';

export interface OnlineStats {
  online: number;
  waiting: number;
}

// Often enough to feel live on the front page, rare enough to cost the server nothing (it caches).
const REFRESH_MS = 10_000;

export function createStatsStore(fetchStats: () => Promise<OnlineStats>, refreshMs = REFRESH_MS) {
  const [online, setOnline] = createSignal<OnlineStats | null>(null);
  let watchers = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  async function poll(gen: number): Promise<void> {
    try {
      const s = await fetchStats();
      if (gen === generation) setOnline(Number.isFinite(s.online) ? s : null);
    } catch {
      if (gen === generation) setOnline(null);
    }
    if (gen === generation) timer = setTimeout(() => void poll(gen), refreshMs);
  }

  /** Keep the count fresh until the returned function is called. */
  function watch(): () => void {
    if (watchers++ === 0) void poll(++generation);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--watchers > 0) return;
      generation++;
      clearTimeout(timer);
    };
  }

  return { online, watch };
}

export type StatsStore = ReturnType<typeof createStatsStore>;
