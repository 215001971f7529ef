/**
 * A person's data: everything stored about them as one JSON download (a subject access request),
 * or erased (chat, notes and pictures deleted, name removed; audit rows kept under a pseudonym).
 * Erasing cannot be undone, so it asks for the word ERASE as well as a reason.
 */
import { For, Show, createSignal } from 'solid-js';
import { messageOf, type OutputOf } from '../api';
import { Action } from '../parts/Action';
import { useConsole } from '../store';

export default function Privacy() {
  const { api } = useConsole();
  const [userId, setUserId] = createSignal('');
  const [exportState, setExportState] = createSignal<{ ok: boolean; text: string } | null>(null);
  const [erased, setErased] = createSignal<OutputOf<'admin.privacy.erase'> | null>(null);
  const id = () => userId().trim();

  async function download() {
    setExportState(null);
    try {
      const data = await api.call('admin.privacy.export', { userId: id() });
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      const a = Object.assign(document.createElement('a'), { href: url, download: `rendezvous-${id()}.json` });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExportState({ ok: true, text: `Downloaded everything stored about ${id()}.` });
    } catch (e) {
      setExportState({ ok: false, text: messageOf(e) });
    }
  }

  return (
    <section class="card panel" aria-labelledby="privacy-h">
      <h2 id="privacy-h">A person's data</h2>
      <label for="privacy-user">User id</label>
      <input
        id="privacy-user"
        type="text"
        maxLength={100}
        data-testid="privacy-user"
        value={userId()}
        onInput={(e) => (setUserId(e.currentTarget.value), setErased(null))}
      />
      <div class="op-actions">
        <button type="button" class="small primary" disabled={!id()} data-testid="privacy-export" onClick={() => void download()}>
          Export as JSON
        </button>
        <Show when={id()}>
          <Action
            label="Erase this person's data"
            testid="privacy-erase"
            danger
            reason
            typed="ERASE"
            warning="Deletes their chat messages, report notes and pictures, and their name. Audit rows stay, under a pseudonym. This cannot be undone."
            run={(reason) => api.call('admin.privacy.erase', { userId: id(), reason })}
            done={(r) => setErased(r as OutputOf<'admin.privacy.erase'>)}
          />
        </Show>
      </div>
      <Show when={exportState()}>
        {(s) => (
          <p class={s().ok ? 'done' : 'error'} role={s().ok ? 'status' : 'alert'} data-testid="privacy-export-result">
            {s().text}
          </p>
        )}
      </Show>
      <Show when={erased()}>
        {(r) => (
          <div data-testid="privacy-erased">
            <p>
              Erased. Audit rows now read <code>{r().pseudonym}</code>.
            </p>
            <ul>
              <For each={Object.entries(r().removed)}>
                {([table, n]) => (
                  <li>
                    {table}: {n} removed
                  </li>
                )}
              </For>
            </ul>
          </div>
        )}
      </Show>
    </section>
  );
}
