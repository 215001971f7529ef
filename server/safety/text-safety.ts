/**
 * Text safety: what in a chat message may be masked for its receiver, and the masked variants.
 * Pure; the relay script (relay-2.lua) picks the variant each receiver gets from both users'
 * preferences, so this module never needs to know who is talking.
 *
 *   contacts  links (with or without a scheme: "example.com/x", "t.me/bob"), e-mail addresses
 *             and phone numbers: masked unless BOTH users allow them, because moving a stranger
 *             off the platform (to a private channel, a scam page) is how most abuse starts;
 *   words     offensive words, including the usual obfuscations ("fuck1ng", "b!tch", "sh1t"), as
 *             the maintained `obscenity` library finds them (its English dataset and recommended
 *             transformers): masked for a receiver whose filter is on. Never a word list of ours.
 *
 * Masking replaces each character (code point) with '*', so a variant is never longer than the
 * text, in characters or in UTF-8 bytes: the variants cannot grow anything the text could not.
 * A word is masked whole (the letters around a match too), so "fuck1ng" does not become "****1ng".
 *
 * The matchers are compiled once, like a RegExp literal: read-only after construction (linkify-it
 * keeps a cache of the last text it scanned, within one synchronous call).
 */
import { LinkifyIt } from 'linkify-it';
import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from 'obscenity';

export const CONTACT_KINDS = ['link', 'email', 'phone'] as const;
export type ContactKind = (typeof CONTACT_KINDS)[number];
/** What a receiver can have masked: a kind of contact, or an offensive word. */
export type MaskKind = ContactKind | 'word';

export interface Span {
  /** UTF-16 offsets, end exclusive. */
  start: number;
  end: number;
  kind: MaskKind;
}

/**
 * The text's masked variants, each present only when something of its kind was found:
 *   c   contacts masked (both users did not allow them)
 *   w   offensive words masked (the receiver's filter is on)
 *   cw  both
 * `kinds`: what was found, each once, in a fixed order (link, email, phone, word).
 */
export interface ChatVariants {
  kinds: MaskKind[];
  c?: string;
  w?: string;
  cw?: string;
}

// Beyond linkify-it's default TLDs (com, net, org, ... and every two-letter country code): the
// generic ones people use to hand out a profile or a chat invite.
const EXTRA_TLDS = ['app', 'dev', 'xyz', 'online', 'site', 'link', 'live', 'club', 'top', 'chat', 'social', 'page', 'fun', 'store', 'click'];
const links = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: true }).tlds(EXTRA_TLDS, true);

const profanity = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });

/**
 * A phone number: 7 digits or more (the shortest local numbers), optionally after '+' or '(', with
 * at most two separators (space, dot, dash, slash, brackets) between digits: "+44 20 7946 0958",
 * "(555) 123-4567", "555.123.4567", "0044/20/79460958", "call5551234567". Any such run counts: a
 * date or an order number masked is a small price next to a number handed to a stranger. Linear:
 * each repetition must take a digit, and a separator never is one.
 */
const PHONE = /[+(]?\d(?:[\s.\-/()]{0,2}\d){6,}/g;

/** The characters of an obfuscated word around a match ("fuck1ng", "a$$hole", "b!tch"). */
const WORD_CHAR = /[\p{L}\p{M}\p{N}$@!*|_]/u;

/** Every span to mask, by kind, in text order (overlaps are allowed: masking merges them). */
export function findSpans(text: string): Span[] {
  const spans: Span[] = [];
  for (const m of links.match(text) ?? []) spans.push({ start: m.index, end: m.lastIndex, kind: m.schema === 'mailto:' ? 'email' : 'link' });
  for (const m of text.matchAll(PHONE)) spans.push({ start: m.index, end: m.index + m[0].length, kind: 'phone' });
  for (const m of profanity.getAllMatches(text)) spans.push({ ...wholeWord(text, m.startIndex, m.endIndex + 1), kind: 'word' });
  return spans.sort((a, b) => a.start - b.start || a.end - b.end);
}

function wholeWord(text: string, start: number, end: number): { start: number; end: number } {
  while (start > 0 && WORD_CHAR.test(text[start - 1]!)) start--;
  while (end < text.length && WORD_CHAR.test(text[end]!)) end++;
  return { start, end };
}

/** The text with every character inside a span replaced by '*' (one per code point). */
export function mask(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  const hidden = new Uint8Array(text.length);
  for (const s of spans) hidden.fill(1, s.start, s.end);
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (!hidden[i]) out += text[i];
    // A surrogate pair is one character: one '*' for both halves.
    else if (!isLowSurrogateAfterHigh(text, i)) out += '*';
  }
  return out;
}

function isLowSurrogateAfterHigh(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  const prev = i > 0 ? text.charCodeAt(i - 1) : 0;
  return c >= 0xdc00 && c <= 0xdfff && prev >= 0xd800 && prev <= 0xdbff;
}

/** The variants of a chat message for the relay to choose from (see ChatVariants). */
export function chatVariants(text: string): ChatVariants {
  const spans = findSpans(text);
  const contacts = spans.filter((s) => s.kind !== 'word');
  const words = spans.filter((s) => s.kind === 'word');
  const kinds = [...new Set(spans.map((s) => s.kind))].sort((a, b) => order(a) - order(b));
  const out: ChatVariants = { kinds };
  if (contacts.length) out.c = mask(text, contacts);
  if (words.length) out.w = mask(text, words);
  if (contacts.length && words.length) out.cw = mask(text, spans);
  return out;
}

const ORDER: readonly MaskKind[] = [...CONTACT_KINDS, 'word'];
const order = (k: MaskKind) => ORDER.indexOf(k);
