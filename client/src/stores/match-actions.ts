/**
 * What the buttons do. Every action ends in success or a plain-words failure; after a failure
 * we ask the server where we are (`resync`), so the screen always matches the server.
 * State-changing calls carry an idempotency key, so an automatic retry after a dropped socket
 * can never apply twice.
 */
import { createSignal } from 'solid-js';
import type { Api } from '../api/client';
import { newId } from '../lib/ids';
import type { CallStore } from './call';
import type { LocalMediaSource } from './media';
import type { MatchState } from './match';
import type { NoticeStore } from './notice';
import { USER_MESSAGES } from '../../../server/resilience/messages';
import { saveAgeBracket, type AgeBracket } from '../api/session-token';

export type Action = 'start' | 'cancel' | 'skip' | 'end' | 'report' | 'block';

/** The reasons a report may give (server/safety/reports.ts). */
export type ReportReason = 'sexual' | 'minor' | 'harassment' | 'spam' | 'violence' | 'other';

const EVENTS_READY_TIMEOUT_MS = 10_000;
const TYPING_IDLE_MS = 3000;
// If a leave's state events have not arrived by then, ask for the state instead of waiting.
const LEAVE_CHECK_MS = 2000;

export interface StartInput {
  name: string;
  interests: string[];
  ageBracket: AgeBracket;
  chat: { allowContacts: boolean; profanityFilter: boolean };
  /** Hide my IP address: the server strips it from what I send (with TURN configured). */
  privacy: boolean;
  /** ISO codes; absent = anyone. */
  language?: string;
  region?: string;
  /** Chosen deliberately: no camera or microphone is asked for. */
  textOnly: boolean;
}

export function createMatchActions(api: Api, m: MatchState, notices: NoticeStore, call: CallStore, media: LocalMediaSource) {
  const [busy, setBusy] = createSignal<Action | null>(null);
  let typingFor: string | null = null; // match id we last said "typing" in
  let typingIdle: ReturnType<typeof setTimeout> | undefined;

  async function run(action: Action, fn: () => Promise<void>): Promise<boolean> {
    if (busy()) return false;
    setBusy(action);
    notices.clear();
    try {
      await fn();
      return true;
    } catch (e) {
      notices.failed(e);
      void m.resync();
      return false;
    } finally {
      setBusy(null);
    }
  }

  /**
   * Join the queue, first switching to a new session if the display name changed or the session
   * does not yet carry the person's age answer (new sessions take it from the device).
   */
  const start = (input: StartInput) =>
    run('start', async () => {
      // Camera permission is asked before queueing, never after a match has been found.
      if (!input.textOnly) await media.acquire();
      if (api.session()?.ageBracket !== input.ageBracket) {
        saveAgeBracket(input.ageBracket);
        await api.replaceSession(input.name, 'consent');
      } else if ((api.session()?.chosenName ?? '') !== input.name) await api.replaceSession(input.name, 'rename');
      // The `matched` event may be written by this very call: the subscription must be live first.
      await withTimeout(api.eventsReady(), EVENTS_READY_TIMEOUT_MS);
      const idempotencyKey = newId();
      const interests = input.interests.length ? input.interests : undefined;
      const { language, region, chat, privacy } = input;
      const r = await api.call(() => api.trpc.match.enqueue.mutate({ interests, language, region, idempotencyKey, chat, privacy }), { retry: true });
      m.applyState(r);
    });

  /**
   * Switch to a session that carries the person's answer as soon as they give it (an adult who
   * accepted the rules), so pressing Start does not wait for a new session. Other answers are
   * left to Start, which shows the server's refusal in words.
   */
  function prepare(name: string, ageBracket: AgeBracket): void {
    if (ageBracket !== '18+' || busy() || api.session()?.ageBracket === ageBracket) return;
    saveAgeBracket(ageBracket);
    // A failure here is met again, and told, when Start asks for the same switch.
    api.replaceSession(name, 'consent').catch(() => null);
  }

  const cancel = () =>
    run('cancel', async () => {
      const idempotencyKey = newId();
      m.applyState(await api.call(() => api.trpc.match.cancel.mutate({ idempotencyKey }), { retry: true }));
    });

  /**
   * Report the partner (a reason, a note, a frame of their video only if the person chose to
   * attach one), block them unless asked not to, then move on to someone new.
   */
  const report = (input: { reason: ReportReason; note: string; snapshot: string | null; block: boolean }) =>
    run('report', async () => {
      const current = m.match();
      if (!current) return;
      const note = input.note.trim() || undefined;
      await api.trpc.safety.report.mutate({ matchId: current.matchId, reason: input.reason, note, snapshot: input.snapshot ?? undefined, block: input.block });
      await hangUp('skip');
      notices.show(input.block ? "Thank you for your report. We've blocked them: you won't meet them again." : 'Thank you for your report.');
    });

  /** Block the partner (never matched again), then move on to someone new. */
  const block = () =>
    run('block', async () => {
      const current = m.match();
      if (!current) return;
      await api.call(() => api.trpc.match.block.mutate({ userId: current.partnerId }), { retry: true });
      await hangUp('skip');
      notices.show("Blocked. You won't meet them again.");
    });

  const LEFT_BY_ME = { skip: 'You skipped. Looking for someone new...', end: 'You ended the chat.' } as const;
  const leave = (kind: 'skip' | 'end') =>
    run(kind, async () => {
      await hangUp(kind);
      // "Looking" stops being true at the next match; "ended" when the person starts again.
      notices.show(LEFT_BY_ME[kind], 'info', kind === 'skip' ? 'looking' : undefined);
    });

  /** Skip or End the current match: hang up at once; the state events that follow move the screen. */
  async function hangUp(kind: 'skip' | 'end'): Promise<void> {
    const current = m.match();
    const matchId = current?.matchId ?? m.server.matchId ?? undefined;
    const before = m.server.version;
    const idempotencyKey = newId();
    await api.call(() => api.trpc.match[kind].mutate({ matchId, idempotencyKey }), { retry: true });
    // skip: waiting, end: landing.
    if (current && m.isCurrent(current.matchId)) call.stop();
    setTimeout(() => m.server.version === before && void m.resync(), LEAVE_CHECK_MS);
  }

  async function send(text: string): Promise<boolean> {
    const current = m.match();
    const t = text.trim();
    if (!current || !t) return false;
    if (t.length > 2000) {
      notices.error('That message is too long: 2000 characters at most.');
      return false;
    }
    const clientMessageId = newId();
    m.setMessages(m.messages.length, { clientMessageId, from: 'me', text: t, status: 'sending', at: Date.now() });
    // The message itself clears our typing indicator on the partner's side: no "stopped" needed.
    stopTyping({ tell: false });
    return deliver(current.matchId, clientMessageId, t);
  }

  /** Send a message that was not delivered again (the same id: the server delivers it once). */
  function resend(clientMessageId: string): Promise<boolean> {
    const current = m.match();
    const i = m.messages.findIndex((x) => x.clientMessageId === clientMessageId);
    const msg = m.messages[i];
    if (!current || !msg || msg.status !== 'failed') return Promise.resolve(false);
    m.setMessages(i, 'status', 'sending');
    return deliver(current.matchId, clientMessageId, msg.text);
  }

  /** Every send ends confirmed (the server's answer, then the echo) or marked not delivered, with the reason shown. */
  async function deliver(matchId: string, clientMessageId: string, text: string): Promise<boolean> {
    const mark = (status: 'sent' | 'failed') => {
      const i = m.messages.findIndex((x) => x.clientMessageId === clientMessageId);
      if (i >= 0 && m.messages[i]!.status !== 'sent') m.setMessages(i, 'status', status);
    };
    try {
      // The same clientMessageId on a retry is delivered once by the server.
      await api.call(() => api.trpc.chat.send.mutate({ matchId, text, clientMessageId }), { retry: true });
      mark('sent');
      return true;
    } catch (e) {
      mark('failed');
      notices.failed(e);
      void m.resync();
      return false;
    }
  }

  /** Call on every keystroke: says "typing" once, and "stopped" after a pause. */
  function typing(): void {
    const current = m.match();
    if (!current) return;
    clearTimeout(typingIdle);
    typingIdle = setTimeout(() => stopTyping(), TYPING_IDLE_MS);
    if (typingFor === current.matchId) return;
    typingFor = current.matchId;
    sendTyping(current.matchId, true);
  }

  function stopTyping({ tell } = { tell: true }): void {
    clearTimeout(typingIdle);
    const matchId = typingFor;
    typingFor = null;
    if (tell && matchId && m.isCurrent(matchId)) sendTyping(matchId, false);
  }

  function sendTyping(matchId: string, value: boolean): void {
    // Best effort: a lost typing hint is harmless and not worth an error message.
    api.call(() => api.trpc.chat.typing.mutate({ matchId, typing: value })).catch(() => null);
  }

  return { busy, prepare, start, cancel, skip: () => leave('skip'), end: () => leave('end'), report, block, send, resend, typing };
}

export type MatchActions = ReturnType<typeof createMatchActions>;

function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(USER_MESSAGES.UNREACHABLE)), ms);
    void p.then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
