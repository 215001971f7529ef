/**
 * What a reload must not lose, kept in sessionStorage (per tab, like the session token): the id
 * of the last event applied, so the subscription resumes after it, and the current match (its
 * `matched` event, when the call connected, and the conversation so far), so the page rejoins the
 * same call instead of ending it. Everything is tied to the user id it was written for.
 */
import type { MatchEvent } from '../../../server/events/types';

export type MatchedEvent = Extract<MatchEvent, { type: 'matched' }>;

export interface RememberedMessage {
  clientMessageId: string;
  from: 'me' | 'partner';
  text: string;
  status: 'sending' | 'sent' | 'failed';
  at: number;
}

export interface RememberedMatch {
  event: MatchedEvent;
  connectedAt: number | null;
  messages: RememberedMessage[];
}

// Two entries, so the cursor (written on every event) never re-writes the conversation.
const CURSOR_KEY = 'rendezvous.tab.cursor';
const MATCH_KEY = 'rendezvous.tab.match';
// The conversation kept across a reload: the newest messages, enough to pick the thread up again.
export const REMEMBERED_MESSAGES = 100;

/** What `key` holds for `userId` (written for another user, corrupt or blocked: nothing). */
function read<T>(key: string, userId: string): T | null {
  try {
    const v = JSON.parse(sessionStorage.getItem(key) ?? 'null') as { userId?: unknown; value?: T } | null;
    return v && v.userId === userId ? (v.value ?? null) : null;
  } catch {
    return null;
  }
}

function write(key: string, userId: string, value: unknown): void {
  try {
    sessionStorage.setItem(key, JSON.stringify({ userId, value }));
  } catch {
    // Storage full or blocked: a reload then starts over, nothing worse.
  }
}

export function createTabMemory(userId: () => string | null) {
  const withUser = <T>(fn: (id: string) => T): T | null => {
    const id = userId();
    return id ? fn(id) : null;
  };
  return {
    lastEventId: (): string | null =>
      withUser((id) => {
        const v = read<unknown>(CURSOR_KEY, id);
        return typeof v === 'string' ? v : null;
      }),
    setLastEventId: (eventId: string) => void withUser((id) => write(CURSOR_KEY, id, eventId)),
    match: (): RememberedMatch | null => withUser((id) => read<RememberedMatch>(MATCH_KEY, id)),
    setMatch: (match: RememberedMatch | null) =>
      void withUser((id) => write(MATCH_KEY, id, match && { ...match, messages: match.messages.slice(-REMEMBERED_MESSAGES) })),
  };
}

export type TabMemory = ReturnType<typeof createTabMemory>;
