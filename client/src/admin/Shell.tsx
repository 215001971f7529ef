/**
 * Signed in: a header (who, their role, sign out), the section navigation, and the section's
 * screen in <main>. Sections are real links (/admin/<id>): a reload or a shared link opens the
 * same screen; a click moves without a page load (history.pushState).
 */
import { For, Suspense, createMemo, createSignal, onCleanup } from 'solid-js';
import { Dynamic } from 'solid-js/web';
import { SECTIONS, sectionOf } from './sections';
import { useConsole } from './store';

export function Shell() {
  const { operator, logout, can } = useConsole();
  const [current, setCurrent] = createSignal(sectionOf(location.pathname));
  const visible = createMemo(() => SECTIONS.filter((s) => can(s.min)));
  const section = createMemo(() => visible().find((s) => s.id === current()) ?? visible()[0]!);
  const onPop = () => setCurrent(sectionOf(location.pathname));
  addEventListener('popstate', onPop);
  onCleanup(() => removeEventListener('popstate', onPop));

  function go(e: MouseEvent, id: string) {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    history.pushState(null, '', `/admin/${id}`);
    setCurrent(id);
    document.getElementById('console-main')?.focus();
  }

  return (
    <div class="shell" data-role={operator()?.role}>
      <header class="shell-header">
        <p class="brand">Rendezvous console</p>
        <p class="who" data-testid="operator-who">
          {operator()?.name} <span class="role-badge">{operator()?.role}</span>
        </p>
        <button type="button" class="small quiet" data-testid="logout" onClick={() => void logout()}>
          Sign out
        </button>
      </header>
      <nav class="shell-nav" aria-label="Console sections">
        <ul>
          <For each={visible()}>
            {(s) => (
              <li>
                <a href={`/admin/${s.id}`} data-testid={`nav-${s.id}`} aria-current={section().id === s.id ? 'page' : undefined} onClick={(e) => go(e, s.id)}>
                  {s.label}
                </a>
              </li>
            )}
          </For>
        </ul>
      </nav>
      <main id="console-main" class="shell-main" tabindex="-1" data-testid={`screen-${section().id}`}>
        <h1>{section().label}</h1>
        <Suspense fallback={<p role="status">Loading...</p>}>
          <Dynamic component={section().screen} />
        </Suspense>
      </main>
    </div>
  );
}
