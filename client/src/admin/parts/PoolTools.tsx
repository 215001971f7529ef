/** Pause matching in one pool for a while (with a reason), or resume it (admins). */
import { createSignal, createUniqueId } from 'solid-js';
import { useConsole } from '../store';
import { Action } from './Action';

export function PoolTools() {
  const { api } = useConsole();
  const [pool, setPool] = createSignal('global');
  const [minutes, setMinutes] = createSignal(30);
  const poolId = createUniqueId();
  const minutesId = createUniqueId();
  return (
    <section class="card panel" aria-labelledby="pool-h">
      <h2 id="pool-h">Pause or resume a pool</h2>
      <label for={poolId}>Pool</label>
      <input id={poolId} type="text" data-testid="pool-name" value={pool()} onInput={(e) => setPool(e.currentTarget.value.trim())} />
      <div class="op-actions">
        <Action
          label="Pause matching"
          testid="pool-pause"
          danger
          reason
          run={(reason) => api.call('admin.pools.pause', { pool: pool(), reason, minutes: minutes() })}
        >
          <label for={minutesId}>For how many minutes</label>
          <input
            id={minutesId}
            type="number"
            min={1}
            max={1440}
            data-testid="pool-pause-minutes"
            value={minutes()}
            onInput={(e) => setMinutes(Math.min(1440, Math.max(1, Number(e.currentTarget.value) || 30)))}
          />
        </Action>
        <Action label="Resume matching" testid="pool-resume" run={() => api.call('admin.pools.resume', { pool: pool() })} />
      </div>
    </section>
  );
}
