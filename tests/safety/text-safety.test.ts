import { describe, expect, it } from 'vitest';
import { chatVariants, findSpans, mask } from '../../server/safety/text-safety';

const kinds = (text: string) => chatVariants(text).kinds;

describe('text safety: what is found in a chat message (pure)', () => {
  it.each([
    ['see example.com/x now', 'see ************* now'],
    ['add me t.me/bob or discord.gg/abc', 'add me ******** or **************'],
    ['www.site.org and https://x.io/a?b=1', '************ and ******************'],
    ['my page is bob.xyz/me', 'my page is **********'],
  ])('a link, with or without a scheme, is masked as contacts: %s', (text, masked) => {
    expect(chatVariants(text)).toEqual({ kinds: ['link'], c: masked });
  });

  it('an e-mail address is masked as contacts', () => {
    expect(chatVariants('write to bob.smith+chat@mail.co.uk!')).toEqual({ kinds: ['email'], c: `write to ${'*'.repeat('bob.smith+chat@mail.co.uk'.length)}!` });
  });

  it.each([
    ['call +44 20 7946 0958', 'call ****************'],
    ['(555) 123-4567 after 6', '************** after 6'],
    ['555.123.4567', '************'],
    ['0044/20/79460958', '****************'],
    ['text me on 06 12 34 56 78', 'text me on **************'],
    ['call5551234567', 'call**********'],
  ])('a phone number in its usual formats is masked as contacts: %s', (text, masked) => {
    expect(chatVariants(text)).toEqual({ kinds: ['phone'], c: masked });
  });

  it.each([
    ['you fuck1ng idiot', 'you ******* idiot'],
    ['what a b!tch', 'what a *****'],
    ['sh1t happens', '**** happens'],
    ['FUUUUCK off', '******* off'],
    ['nice a$$hole', 'nice *******'],
  ])('an offensive word, obfuscated the usual ways, is masked whole: %s', (text, masked) => {
    expect(chatVariants(text)).toEqual({ kinds: ['word'], w: masked });
  });

  it.each(['hi! I am 25, from Lyon, 180cm', 'it is 10:30, see you at 5', 'hello.world yes', 'version 1.2.3 is out', 'an assassin from Scunthorpe'])(
    'ordinary talk is left alone: %s',
    (text) => {
      expect(chatVariants(text)).toEqual({ kinds: [] });
    },
  );

  it('a message with both has a variant for each choice, and the kinds in a fixed order', () => {
    const v = chatVariants('fuck this, mail me a@b.com or call 555-123-4567');
    expect(v).toEqual({
      kinds: ['email', 'phone', 'word'],
      c: 'fuck this, mail me ******* or call ************',
      w: '**** this, mail me a@b.com or call 555-123-4567',
      cw: '**** this, mail me ******* or call ************',
    });
  });

  it('masking never makes a text longer, in characters or UTF-8 bytes (one * per character, emoji included)', () => {
    const text = '😀 fuck 😀 call 555-123-4567 ✉ bob@example.com 😀'.repeat(40);
    const v = chatVariants(text);
    for (const variant of [v.c, v.w, v.cw]) {
      expect(variant).toBeDefined();
      expect(variant!.length).toBeLessThanOrEqual(text.length);
      expect(Buffer.byteLength(variant!)).toBeLessThanOrEqual(Buffer.byteLength(text));
    }
    expect(mask('😀x', [{ start: 0, end: 3, kind: 'word' }])).toBe('**');
  });

  it('overlapping finds are masked once', () => {
    const spans = findSpans('example.com/5551234567');
    expect(spans.map((s) => s.kind).sort()).toEqual(['link', 'phone']);
    expect(chatVariants('example.com/5551234567').c).toBe('**********************');
    expect(kinds('example.com/5551234567')).toEqual(['link', 'phone']);
  });
});
