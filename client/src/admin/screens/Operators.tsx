/** Admins: who may use the console, with what role; create an operator, change a role, disable one. */
import { For, Show } from 'solid-js';
import { ROLES, type Role } from '../api';
import { when } from '../format';
import { Action } from '../parts/Action';
import { CreateOperator } from '../parts/CreateOperator';
import { Failure } from '../parts/Failure';
import { createPoll } from '../poll';
import { useConsole } from '../store';

export default function Operators() {
  const { api, operator } = useConsole();
  const poll = createPoll(() => api.call('operators.list'));
  const refresh = () => void poll.refresh();
  return (
    <>
      <CreateOperator done={refresh} />
      <Failure error={poll.error()} />
      <section class="card panel table-wrap" tabindex="0" aria-labelledby="ops-h">
        <h2 id="ops-h">Operators</h2>
        <table data-testid="operators">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Created</th>
              <th scope="col">Last sign-in</th>
              <th scope="col">Status</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            <For each={poll.data()}>
              {(o) => (
                <tr data-testid="operator-row" data-name={o.name}>
                  <th scope="row">{o.name}</th>
                  <td data-testid="operator-role">{o.role}</td>
                  <td>{when(o.createdAt)}</td>
                  <td>{when(o.lastLoginAt)}</td>
                  <td>{o.disabledAt ? `Disabled ${when(o.disabledAt)}` : 'Active'}</td>
                  <td>
                    <Show when={o.id !== operator()?.id} fallback={<span class="help">You</span>}>
                      <div class="op-actions">
                        <For each={ROLES.filter((r) => r !== o.role)}>
                          {(r: Role) => (
                            <Action
                              label={`Make ${r}`}
                              testid={`operator-make-${r}`}
                              run={() => api.call('operators.update', { id: o.id, role: r })}
                              done={refresh}
                            />
                          )}
                        </For>
                        <Action
                          label={o.disabledAt ? 'Enable' : 'Disable'}
                          testid="operator-disable"
                          danger={!o.disabledAt}
                          warning={o.disabledAt ? undefined : 'Their sessions end at once.'}
                          run={() => api.call('operators.update', { id: o.id, disabled: !o.disabledAt })}
                          done={refresh}
                        />
                      </div>
                    </Show>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </section>
    </>
  );
}
