/** Small wordings and formats the screens share, kept pure so they are unit-tested. */

/** A call's length as m:ss (h:mm:ss past an hour). */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

import type { Quality } from '../rtc/path-stats';
export type { Quality };

const LEVEL: Record<Quality['level'], string> = { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection' };

/** The connection in a word for the badge, and the numbers behind it for its tooltip. */
export function qualityText(q: Quality): { label: string; detail: string } {
  const parts = [q.rttMs === null ? null : `round trip ${Math.round(q.rttMs)} ms`, q.lossPct === null ? null : `${formatPct(q.lossPct)} packets lost`];
  return { label: LEVEL[q.level], detail: parts.filter(Boolean).join(', ') || 'No measurements yet' };
}

function formatPct(p: number): string {
  return `${p < 10 ? Math.round(p * 10) / 10 : Math.round(p)}%`;
}

/** "a", "a and b", "a, b and c". */
export function listText(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** "You both like music and films", or '' when nothing is shared. */
export function sharedText(interests: readonly string[]): string {
  return interests.length ? `You both like ${listText(interests)}` : '';
}

/** The waiting screen's estimate: honest about having none. */
export function waitText(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return 'No estimate yet';
  if (ms < 60_000) return `Expected wait: about ${Math.max(1, Math.round(ms / 1000))} seconds`;
  const min = Math.round(ms / 60_000);
  return `Expected wait: about ${min} minute${min === 1 ? '' : 's'}`;
}

/** "12 people online" (the landing page's count). */
export function onlineText(online: number): string {
  return `${online.toLocaleString('en')} ${online === 1 ? 'person' : 'people'} online`;
}

/** The chat header's word for the call ("Connecting...", "Connected", "Reconnecting...", "Text only"). */
export function callStateText(
  phase: 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'text-only',
  partnerReconnecting: boolean,
  /** We send no camera or microphone at all (denied, none, or text only chosen). */
  selfTextOnly = false,
): string {
  if (partnerReconnecting || phase === 'reconnecting') return 'Reconnecting...';
  if (phase === 'text-only' || (phase === 'connected' && selfTextOnly)) return 'Text only';
  if (phase === 'connected') return 'Connected';
  return 'Connecting...';
}

/** A message's time of day, as the person's clock shows it ("14:05" or "2:05 PM"). */
export function timeOfDay(at: number, locale?: string): string {
  return new Date(at).toLocaleTimeString(locale, { hour: 'numeric', minute: '2-digit' });
}
