import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DeadLetterNotFoundError, DeadLetterRetryFailedError } from '../../server/audit/dead-letter-queue';
import { INTERNAL_CODES, USER_MESSAGES, userMessage } from '../../server/resilience/messages';
import { InvalidTokenError } from '../../server/session/token';
import { NotInMatchError, StoreUnavailableError, VersionConflictError } from '../../server/state/errors';

const SERVER = join(import.meta.dirname, '../../server');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : /\.(ts|lua)$/.test(d.name) ? [join(dir, d.name)] : [],
  );
}

/** Every error code server/ can produce: `code = '...'` (classes, Lua notices) and Lua `refuse('...')`. */
function codesUsedInServer(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of filesUnder(SERVER)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bcode = '([A-Z][A-Z0-9_]*)'|\brefuse\('([A-Z][A-Z0-9_]*)'/g)) found.set(m[1] ?? m[2]!, file);
  }
  return found;
}

describe('messages people can read', () => {
  it('every error code used in server/ has a message for a person, or is listed as never reaching a client', () => {
    const codes = codesUsedInServer();
    expect(codes.size).toBeGreaterThan(10); // the grep itself works
    const missing = [...codes].filter(([code]) => !(code in USER_MESSAGES) && !INTERNAL_CODES.includes(code)).map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });

  it('gives a stable code and the message for a known code', () => {
    expect(userMessage('SERVICE_UNAVAILABLE')).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      message: "We're reconnecting to our servers. Please try again in a few seconds.",
    });
    expect(userMessage('PARTNER_DISCONNECTED')).toEqual({ code: 'PARTNER_DISCONNECTED', message: "Your partner's connection dropped. Finding someone new..." });
  });

  it('never shows a raw or unknown code: anything unknown becomes INTERNAL', () => {
    expect(userMessage('ECONNREFUSED')).toEqual({ code: 'INTERNAL', message: USER_MESSAGES.INTERNAL });
    expect(userMessage(undefined).code).toBe('INTERNAL');
    expect(userMessage('toString').code).toBe('INTERNAL');
  });

  it('says the same as the errors that already carry a fixed message', () => {
    const fixed: Array<{ code: string; message: string }> = [
      new VersionConflictError(1, 2),
      new NotInMatchError(),
      new StoreUnavailableError(new Error('x')),
      new InvalidTokenError('malformed'),
    ];
    for (const e of fixed) expect(userMessage(e.code).message, e.code).toBe(e.message);
    expect(userMessage(new DeadLetterNotFoundError('x').code).code).toBe('DEAD_LETTER_NOT_FOUND');
    expect(userMessage(new DeadLetterRetryFailedError('x', 'why', 2).code).code).toBe('DEAD_LETTER_RETRY_FAILED');
  });

  it('every message is written for a person: a full sentence, no codes or stack traces', () => {
    for (const [code, message] of Object.entries(USER_MESSAGES)) {
      expect(message, code).toMatch(/^[A-Z].*[.!?]$/);
      expect(message, code).not.toMatch(/[A-Z]{3,}_|Error:|\bat \w+ \(/);
    }
  });
});
