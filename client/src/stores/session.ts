/**
 * Who we are and whether we are connected: the session (from the api module) and the socket
 * state in words for the banner. The events subscription itself is owned by the api module.
 */
import { createMemo } from 'solid-js';
import { USER_MESSAGES } from '../../../server/resilience/messages';
import type { Api } from '../api/client';

// Report ids already told about; the server lists a person's last 50 reports, so this many is plenty.
const TOLD_KEY = 'rendezvous.toldReports';
const TOLD_MAX = 100;

function loadTold(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(TOLD_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function saveTold(ids: string[]): void {
  try {
    localStorage.setItem(TOLD_KEY, JSON.stringify(ids));
  } catch {
    // Storage full or blocked: the person may be told twice, nothing worse.
  }
}

export function createSessionStore(api: Api) {
  const connectionText = createMemo(() => {
    switch (api.connection()) {
      case 'open':
        return '';
      case 'reconnecting':
        return USER_MESSAGES.RECONNECTING;
      default:
        return USER_MESSAGES.CONNECTING;
    }
  });

  return {
    connection: api.connection,
    connectionText,
    user: api.session,
    /** A ban receipt when session.create was refused with BANNED (the app shows it instead of a screen). */
    ban: api.ban,
    /** True while a proof-of-work challenge is being solved. */
    checking: api.checking,
    /** Appeal the ban with its receipt (no session needed). */
    appeal: (receiptId: string, text: string) => api.trpc.safety.appeal.mutate({ receiptId, text }),
    /** Reports of this person a moderator acted on that they have not been told about yet (each is told once per device). */
    async newlyActioned(): Promise<number> {
      const mine = await api.call(() => api.trpc.safety.myReports.query());
      const told = new Set(loadTold());
      const fresh = mine.filter((r) => r.status === 'actioned' && !told.has(r.reportId)).map((r) => r.reportId);
      if (fresh.length > 0) saveTold([...told, ...fresh].slice(-TOLD_MAX));
      return fresh.length;
    },
    /** The name the person typed last time in this tab, to prefill the form. */
    chosenName: () => api.session()?.chosenName ?? '',
  };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
