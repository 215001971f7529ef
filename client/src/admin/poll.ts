/**
 * A query kept fresh: asked now, then every `intervalMs` while the component lives, and again on
 * `refresh()` (after an action). The last good answer stays on screen while a later one fails;
 * the failure is shown beside it rather than replacing it. A tab in the background asks nothing
 * (a console left open in a corner costs the server no requests) and catches up when shown.
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
    const timer = setInterval(() => document.hidden || void refresh(), intervalMs);
    const onShow = () => document.hidden || void refresh();
    document.addEventListener('visibilitychange', onShow);
    onCleanup(() => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onShow);
    });
  });

  return { data, error, loading, refresh };
}
