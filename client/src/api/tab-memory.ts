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

interface Memory {
  userId: string;
  lastEventId: string | null;
  match: RememberedMatch | null;
}

const KEY = 'rendezvous.tab';
// The conversation kept across a reload: the newest messages, enough to pick the thread up again.
export const REMEMBERED_MESSAGES = 100;

function read(userId: string): Memory {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Partial<Memory> | null;
    if (v && v.userId === userId) return { userId, lastEventId: typeof v.lastEventId === 'string' ? v.lastEventId : null, match: v.match ?? null };
  } catch {
    // Corrupt or blocked storage: start with nothing remembered.
  }
  return { userId, lastEventId: null, match: null };
}

function write(m: Memory): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(m));
  } catch {
    // Storage full or blocked: a reload then starts over, nothing worse.
  }
}

export function createTabMemory(userId: () => string | null) {
  let cache: Memory | null = null;
  const current = (): Memory | null => {
    const id = userId();
    if (!id) return null;
    if (cache?.userId !== id) cache = read(id);
    return cache;
  };
  const update = (fn: (m: Memory) => void) => {
    const m = current();
    if (!m) return;
    fn(m);
    write(m);
  };
  return {
    lastEventId: (): string | null => current()?.lastEventId ?? null,
    setLastEventId: (id: string) => update((m) => (m.lastEventId = id)),
    match: (): RememberedMatch | null => current()?.match ?? null,
    setMatch: (match: RememberedMatch | null) => update((m) => (m.match = match && { ...match, messages: match.messages.slice(-REMEMBERED_MESSAGES) })),
    forget: () => update((m) => ((m.lastEventId = null), (m.match = null))),
  };
}

export type TabMemory = ReturnType<typeof createTabMemory>;
