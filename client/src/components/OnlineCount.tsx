/** "1,204 people online" on the landing page, refreshed while shown; nothing at all if unknown. */
import { Show, onCleanup, onMount } from 'solid-js';
import { onlineText } from '../lib/format';
import { useStores } from '../stores/context';

export function OnlineCount() {
  const { stats } = useStores();
  onMount(() => onCleanup(stats.watch()));
  return (
    <Show when={stats.online()}>
      {(s) => (
        <p class="online" data-testid="online-count">
          <span class="dot" aria-hidden="true" />
          {onlineText(s().online)}
        </p>
      )}
    </Show>
  );
}
