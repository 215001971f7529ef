/**
 * A chat message split into plain text and links, so links can be clickable while everything
 * else stays text (never HTML). Only web and mail links count; text the server masked for this
 * receiver ("****") is no link and stays as it is.
 */
import { LinkifyIt } from 'linkify-it';

// The server's settings (server/safety/text-safety.ts), so what it would mask as a link is what is clickable here.
const linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: true });
const SCHEMES = new Set(['http:', 'https:', 'mailto:', '']);

export interface Part {
  text: string;
  href?: string;
}

export function linkParts(text: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  for (const m of linkify.match(text) ?? []) {
    if (!SCHEMES.has(m.schema.toLowerCase())) continue;
    if (m.index > at) parts.push({ text: text.slice(at, m.index) });
    parts.push({ text: m.raw, href: m.url });
    at = m.lastIndex;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}
