/** A new operator: name, a password of at least 12 characters, and a role. */
import { For, Show, createSignal } from 'solid-js';
import { ROLES, messageOf, type Role } from '../api';
import { useConsole } from '../store';

export function CreateOperator(props: { done: () => void }) {
  const { api } = useConsole();
  const [name, setName] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [role, setRole] = createSignal<Role>('viewer');
  const [result, setResult] = createSignal<{ ok: boolean; text: string } | null>(null);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    try {
      const op = await api.call('operators.create', { name: name().trim(), password: password(), role: role() });
      setResult({ ok: true, text: `Created ${op.name} (${op.role}).` });
      setName('');
      setPassword('');
      props.done();
    } catch (err) {
      setResult({ ok: false, text: messageOf(err) });
    }
  }

  return (
    <section class="card panel" aria-labelledby="new-op-h">
      <h2 id="new-op-h">New operator</h2>
      <form class="grid-form" onSubmit={(e) => void submit(e)}>
        <label for="new-op-name">Name</label>
        <input
          id="new-op-name"
          type="text"
          required
          autocomplete="off"
          data-testid="new-operator-name"
          value={name()}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        <label for="new-op-password">Password (12 characters or more)</label>
        <input
          id="new-op-password"
          type="password"
          required
          minLength={12}
          autocomplete="new-password"
          data-testid="new-operator-password"
          value={password()}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <label for="new-op-role">Role</label>
        <select id="new-op-role" data-testid="new-operator-role" value={role()} onChange={(e) => setRole(e.currentTarget.value as Role)}>
          <For each={ROLES}>{(r) => <option value={r}>{r}</option>}</For>
        </select>
        <button type="submit" class="small primary" data-testid="new-operator-submit">
          Create
        </button>
      </form>
      <Show when={result()}>
        {(r) => (
          <p class={r().ok ? 'done' : 'error'} role={r().ok ? 'status' : 'alert'} data-testid="new-operator-result">
            {r().text}
          </p>
        )}
      </Show>
    </section>
  );
}
