/**
 * The three kill switches (every process applies a change within about a second). Each toggle
 * asks for a reason and a confirmation; viewers and moderators see the state, admins change it.
 */
import { For, Show } from 'solid-js';
import type { SwitchName } from '../api';
import { when } from '../format';
import { Action } from '../parts/Action';
import { Failure } from '../parts/Failure';
import { createPoll } from '../poll';
import { useConsole } from '../store';

const SWITCHES: { name: SwitchName; label: string; effect: string }[] = [
  { name: 'stopMatching', label: 'Stop matching', effect: 'No new pairs anywhere; people waiting keep waiting and are told matching is paused.' },
  { name: 'textOnly', label: 'Text only', effect: 'New matches are text only: no video signalling and no LiveKit token.' },
  { name: 'tightLimits', label: 'Tight limits', effect: 'Every rate-limited action costs several times its usual points.' },
];

export default function Switches() {
  const { api, can } = useConsole();
  const poll = createPoll(() => api.call('admin.switches.get'), 5000);
  return (
    <>
      <Failure error={poll.error()} />
      <Show when={poll.data()}>
        {(s) => (
          <>
            <p class="help" data-testid="switches-updated">
              {s().updatedAt ? `Last changed ${when(s().updatedAt)} by ${s().updatedBy ?? 'unknown'}: ${s().reason ?? 'no reason given'}.` : 'Never changed.'}
            </p>
            <ul class="plain switches">
              <For each={SWITCHES}>
                {(sw) => (
                  <li class="card panel" data-testid={`switch-${sw.name}`} data-on={String(s()[sw.name])}>
                    <h2>{sw.label}</h2>
                    <p>
                      <span class={s()[sw.name] ? 'pill pill-on' : 'pill'} data-testid={`switch-${sw.name}-state`}>
                        {s()[sw.name] ? 'On' : 'Off'}
                      </span>{' '}
                      {sw.effect}
                    </p>
                    <Show when={can('admin')}>
                      <Action
                        label={`${s()[sw.name] ? 'Turn off' : 'Turn on'}: ${sw.label}`}
                        testid={`switch-${sw.name}-toggle`}
                        danger={!s()[sw.name]}
                        reason
                        warning={s()[sw.name] ? 'Everything goes back to normal.' : sw.effect}
                        run={(reason) => api.call('admin.switches.set', { [sw.name]: !s()[sw.name], reason })}
                        done={() => void poll.refresh()}
                      />
                    </Show>
                  </li>
                )}
              </For>
            </ul>
          </>
        )}
      </Show>
    </>
  );
}
