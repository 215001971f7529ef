/**
 * A query kept fresh: asked now, then every `intervalMs` while the component lives, and again on
 * `refresh()` (after an action). The last good answer stays on screen while a later one fails;
 * the failure is shown beside it rather than replacing it.
 */
import { createSignal, onCleanup, onMount } from 'solid-js';
import { messageOf } from './api';
import { useConsole } from './store';

export function createPoll<T>(load: () => Promise<T>, intervalMs: number | null = null) {
  const { noteRefusal } = useConsole();
  const [data, setData] = createSignal<T | undefined>(undefined);
  const [error, setError] = createSignal<string | null>(null);
  const [loading, setLoading] = createSignal(false);
  let inFlight = false;

  async function refresh(): Promise<void> {
    if (inFlight) return;
    inFlight = true;
    setLoading(true);
    try {
      const value = await load();
      setData(() => value);
      setError(null);
    } catch (e) {
      noteRefusal(e);
      setError(messageOf(e));
    } finally {
      inFlight = false;
      setLoading(false);
    }
  }

  onMount(() => {
    void refresh();
    if (intervalMs === null) return;
    const timer = setInterval(() => void refresh(), intervalMs);
    onCleanup(() => clearInterval(timer));
  });

  return { data, error, loading, refresh };
}
