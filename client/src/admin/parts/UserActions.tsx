/**
 * What may be done to one person, by role: moderators end their match, disconnect, ban, warn and
 * lift a ban; admins also force a state. A viewer sees none of it (the server refuses anyway).
 */
import { For, Show, createSignal, createUniqueId } from 'solid-js';
import { STATES, type State, type UserDetail } from '../api';
import { useConsole } from '../store';
import { Action } from './Action';
import { DurationSelect } from './DurationSelect';

export function UserActions(props: { userId: string; detail: UserDetail; refresh: () => void }) {
  const { api, can } = useConsole();
  const [banFor, setBanFor] = createSignal<number | null>(86_400_000);
  const [to, setTo] = createSignal<State>('IDLE');
  const toId = createUniqueId();
  const matchId = () => props.detail.user?.matchId ?? null;
  const userId = props.userId;
  return (
    <Show when={can('moderator')}>
      <div class="op-actions" role="group" aria-label="Actions on this person" data-testid="user-actions">
        <Show when={matchId()}>
          {(m) => (
            <Action
              label="End their match"
              testid="user-end-match"
              reason
              run={(reason) => api.call('admin.endMatch', { matchId: m(), reason })}
              done={props.refresh}
            />
          )}
        </Show>
        <Action label="Disconnect" testid="user-disconnect" reason run={(reason) => api.call('admin.disconnect', { userId, reason })} done={props.refresh} />
        <Action
          label="Ban"
          testid="user-ban"
          danger
          reason
          run={(reason) => api.call('admin.moderation.ban', { userId, durationMs: banFor(), reason })}
          done={props.refresh}
        >
          <DurationSelect value={banFor()} onChange={setBanFor} testid="user-ban-duration" />
        </Action>
        <Action
          label="Warn"
          testid="user-warn"
          reason
          reasonLabel="Message they will see"
          run={(message) => api.call('admin.moderation.warn', { userId, message })}
          done={props.refresh}
        />
        <Show when={props.detail.banned}>
          <Action label="Lift the ban" testid="user-lift" reason run={(reason) => api.call('admin.moderation.lift', { userId, reason })} done={props.refresh} />
        </Show>
        <Show when={can('admin')}>
          <Action
            label="Force a state"
            testid="user-force"
            danger
            reason
            warning="Moves the person to the chosen state, bypassing the transition table."
            run={(reason) => api.call('admin.force', { userId, to: to(), reason })}
            done={props.refresh}
          >
            <label for={toId}>New state</label>
            <select id={toId} data-testid="user-force-state" value={to()} onChange={(e) => setTo(e.currentTarget.value as State)}>
              <For each={STATES}>{(s) => <option value={s}>{s}</option>}</For>
            </select>
          </Action>
        </Show>
      </div>
    </Show>
  );
}
