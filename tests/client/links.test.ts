/** Links in chat messages: web and mail links become links, everything else (masked text too) stays text. */
import { describe, expect, it } from 'vitest';
import { linkParts } from '../../client/src/lib/links';

describe('links in chat', () => {
  it('splits a message into text and links', () => {
    expect(linkParts('see https://example.com/a?b=1 now')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { text: ' now' },
    ]);
  });

  it('links bare domains and e-mail addresses', () => {
    expect(linkParts('example.org')).toEqual([{ text: 'example.org', href: 'http://example.org' }]);
    expect(linkParts('mail me@example.com')[1]).toEqual({ text: 'me@example.com', href: 'mailto:me@example.com' });
  });

  it('keeps masked text and other schemes as text', () => {
    expect(linkParts('look at *********** ok')).toEqual([{ text: 'look at *********** ok' }]);
    expect(linkParts('ftp://example.com/file').every((p) => !p.href)).toBe(true);
  });
});
