/**
 * The console's state: who is signed in (from the cookie, asked once with `operators.me`), what
 * their role allows, and the API. Created once in AdminApp and handed down through context.
 */
import { createContext, createSignal, useContext, type JSX } from 'solid-js';
import { ROLES, codeOf, createAdminApi, type AdminApi, type Operator, type Role } from './api';

export function createConsoleStore(api: AdminApi = createAdminApi()) {
  const [operator, setOperator] = createSignal<Operator | null>(null);
  const [checked, setChecked] = createSignal(false);

  async function check(): Promise<void> {
    try {
      setOperator(await api.call('operators.me'));
    } catch {
      setOperator(null);
    } finally {
      setChecked(true);
    }
  }

  async function login(name: string, password: string): Promise<void> {
    setOperator(await api.call('operators.login', { name, password }));
  }

  async function logout(): Promise<void> {
    await api.call('operators.logout').catch(() => undefined);
    setOperator(null);
  }

  /** True when the signed-in operator's role includes `min` (viewer < moderator < admin). */
  const can = (min: Role): boolean => {
    const op = operator();
    return op !== null && ROLES.indexOf(op.role) >= ROLES.indexOf(min);
  };

  /** A call refused because the session ended (expired, or this operator was disabled) signs out. */
  function noteRefusal(e: unknown): void {
    if (codeOf(e) === 'UNAUTHORIZED') setOperator(null);
  }

  return { api, operator, checked, check, login, logout, can, noteRefusal };
}
export type ConsoleStore = ReturnType<typeof createConsoleStore>;

const Ctx = createContext<ConsoleStore>();

export function ConsoleProvider(props: { store: ConsoleStore; children: JSX.Element }) {
  return <Ctx.Provider value={props.store}>{props.children}</Ctx.Provider>;
}

export function useConsole(): ConsoleStore {
  const store = useContext(Ctx);
  if (!store) throw new Error('useConsole() outside <ConsoleProvider>');
  return store;
}
