/**
 * The one banner line shown above every screen: what just happened (partner left, a server
 * notice) or what went wrong. One at a time, newest wins, so the person never has to read a log.
 */
import { createSignal } from 'solid-js';

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

export function createNoticeStore() {
  const [notice, setNotice] = createSignal<Notice | null>(null);
  let nextId = 1;
  let expiry: ReturnType<typeof setTimeout> | undefined;

  function show(text: string, kind: Notice['kind'] = 'info'): number {
    clearTimeout(expiry);
    const id = nextId++;
    setNotice({ id, kind, text });
    return id;
  }

  function clear(): void {
    clearTimeout(expiry);
    setNotice(null);
  }

  /**
   * Let the current notice fade after `ms` (e.g. "Your partner skipped" once a new partner is
   * found) unless it has been replaced by then.
   */
  function expireSoon(ms = 5000): void {
    const current = notice();
    if (!current) return;
    clearTimeout(expiry);
    expiry = setTimeout(() => notice()?.id === current.id && setNotice(null), ms);
  }

  return {
    notice,
    show,
    error: (text: string) => show(text, 'error'),
    clear,
    expireSoon,
  };
}

export type NoticeStore = ReturnType<typeof createNoticeStore>;
