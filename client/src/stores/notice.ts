/**
 * The one banner line shown above every screen: what just happened (partner left, a server
 * notice) or what went wrong. One at a time, newest wins, so the person never has to read a log.
 */
import { createSignal } from 'solid-js';
import { errorText, retryAfterMs } from '../api/errors';

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
  /** What the notice is about, so it can be taken down once it is no longer true (see `clearIf`). */
  topic?: NoticeTopic;
}

/** Notices that stop being true: "looking for someone new" once matched, "partner dropped" once back or gone. */
export type NoticeTopic = 'looking' | 'partner-connection';

export function createNoticeStore() {
  const [notice, setNotice] = createSignal<Notice | null>(null);
  let nextId = 1;
  let expiry: ReturnType<typeof setTimeout> | undefined;

  function show(text: string, kind: Notice['kind'] = 'info', topic?: NoticeTopic): number {
    clearTimeout(expiry);
    const id = nextId++;
    setNotice({ id, kind, text, topic });
    return id;
  }

  /** Take the notice down if it is about `topic` (it stopped being true). */
  function clearIf(topic: NoticeTopic): void {
    if (notice()?.topic === topic) clear();
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

  let ticker: ReturnType<typeof setInterval> | undefined;

  /**
   * A failed call in plain words. A rate limit counts down its wait ("Please wait 3 seconds.",
   * then 2, then 1) and clears itself when the person may try again: never a spinner.
   */
  function failed(e: unknown): void {
    clearInterval(ticker);
    const wait = retryAfterMs(e);
    if (wait === null) return void show(errorText(e), 'error');
    const until = Date.now() + wait;
    const text = errorText(e);
    const tick = () => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(ticker);
        return void (notice()?.id === id && setNotice(null));
      }
      const n = notice();
      if (n && n.id !== id) return clearInterval(ticker); // replaced by a newer notice
      setNotice({ id, kind: 'error', text: text.replace(/\d+ seconds?/, `${left} second${left === 1 ? '' : 's'}`) });
    };
    const id = show(text, 'error');
    tick();
    ticker = setInterval(tick, 1000);
  }

  return {
    notice,
    show,
    failed,
    error: (text: string) => show(text, 'error'),
    clear,
    clearIf,
    expireSoon,
  };
}

export type NoticeStore = ReturnType<typeof createNoticeStore>;
