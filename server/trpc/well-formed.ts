/**
 * Input is well-formed or refused at the edge: every string (and object key) in a call's input
 * must be valid Unicode without NUL. A lone surrogate breaks the Lua JSON decoder in Redis (a
 * script failure that people would see as an outage); a NUL is text Postgres cannot store (a
 * poison audit record). Pure: the tRPC edge turns a finding into INVALID_INPUT.
 */

// Lone surrogates: a high one not followed by a low one, or a low one not preceded by a high one.
const ILL_FORMED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\0/;

export function wellFormedText(s: string): boolean {
  return !ILL_FORMED.test(s);
}

/**
 * The first problem in `value`, or null: walks it without recursion (input nesting is the
 * client's to choose), visiting at most `maxNodes` values, beyond which the input is refused too.
 */
export function illFormedInput(value: unknown, maxNodes = 100_000): string | null {
  const stack: unknown[] = [value];
  let visited = 0;
  while (stack.length) {
    if (++visited > maxNodes) return 'the input is too large';
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!wellFormedText(v)) return 'text must be valid Unicode without NUL characters';
    } else if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (!wellFormedText(k)) return 'text must be valid Unicode without NUL characters';
        stack.push(x);
      }
    }
  }
  return null;
}
