import { BrokenCircuitError } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { isRowRejection, isTransientDbError } from '../../server/audit/db-errors';
import { parseEntry, storable } from '../../server/audit/records';

const base = { eventId: 'e1', pool: 'global', at: 1_700_000_000_000 };

describe('storable (pure)', () => {
  it('replaces NUL and each half of a surrogate pair with U+FFFD, in every string', () => {
    expect(storable('a\u0000b')).toBe('a\uFFFDb');
    expect(storable('high \uD800 alone')).toBe('high \uFFFD alone');
    expect(storable('low \uDC00 alone')).toBe('low \uFFFD alone');
    expect(storable('\uDC00\uD800')).toBe('\uFFFD\uFFFD'); // low before high is no pair
    expect(storable('ends in half a pair \uD83D')).toBe('ends in half a pair \uFFFD');
  });

  it('keeps whole surrogate pairs and everything else as it is', () => {
    expect(storable('smile \uD83D\uDE00, tab\t, é')).toBe('smile \uD83D\uDE00, tab\t, é');
    expect(storable(null)).toBeNull();
    expect(storable(42)).toBe(42);
    expect(storable(true)).toBe(true);
  });

  it('walks objects and arrays, keys included', () => {
    const value = { 'k\u0000': ['x\u0000', { deep: '\uD800' }, 3, null], ok: 'fine' };
    expect(storable(value)).toEqual({ 'k\uFFFD': ['x\uFFFD', { deep: '\uFFFD' }, 3, null], ok: 'fine' });
    expect(value['k\u0000'][0]).toBe('x\u0000'); // a copy: the input is left alone
  });

  it('is idempotent', () => {
    const once = storable({ s: 'a\u0000\uD800b' });
    expect(storable(once)).toEqual(once);
  });
});

describe('reading an outbox entry makes it storable, whoever wrote it', () => {
  it('a webhook record with NUL and lone surrogates in its columns and payload comes out without them', () => {
    const rec = {
      ...base,
      kind: 'webhook',
      event: 'participant_left\u0000',
      room: 'room\u0000',
      participant: 'ann\uD800',
      valid: false,
      payload: { body: '{"x":"\\u0000"}\u0000', 'key\u0000': 1 },
    };
    const parsed = parseEntry('global', '1-0', ['e', JSON.stringify(rec)]).rec;
    expect(parsed).toEqual({
      ...rec,
      event: 'participant_left\uFFFD',
      room: 'room\uFFFD',
      participant: 'ann\uFFFD',
      payload: { body: '{"x":"\\u0000"}\uFFFD', 'key\uFFFD': 1 },
    });
  });

  it('a record with nothing to replace is read as written', () => {
    const rec = { ...base, kind: 'error', category: 'c', type: 't', severity: 's', message: 'a \\u0000 that is text, and \uD83D\uDE00', context: { n: 1 } };
    expect(parseEntry('global', '1-0', ['e', JSON.stringify(rec)]).rec).toEqual(rec);
  });
});

describe('which refusals are about the values (pure)', () => {
  const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  const drizzle = (cause: unknown) => Object.assign(new Error('Failed query: insert ...\nparams: x'), { query: 'insert ...', cause });

  it.each([
    ['an untranslatable character (22P05)', drizzle(pgError('22P05', 'unsupported Unicode escape sequence'))],
    ['a NUL byte (22021)', drizzle(pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'))],
    ['an integer out of range (22003)', drizzle(pgError('22003', 'integer out of range'))],
    ['a time out of range (22008)', drizzle(pgError('22008', 'timestamp out of range'))],
    ['invalid json (22P02)', pgError('22P02', 'invalid input syntax for type json')],
    ['a null in a not-null column (23502)', drizzle(pgError('23502', 'null value in column'))],
    ['a check violation (23514)', drizzle(pgError('23514', 'new row violates check constraint'))],
  ])('%s is a row rejection: dead-lettered at once', (_name, e) => {
    expect(isTransientDbError(e)).toBe(false);
    expect(isRowRejection(e)).toBe(true);
  });

  it.each([
    ['a unique violation (23505): a row already there, absorbed on the next delivery', drizzle(pgError('23505', 'duplicate key value'))],
    ['a statement timeout (57014)', drizzle(pgError('57014', 'canceling statement due to statement timeout'))],
    ['a missing column before its migration (42703)', drizzle(pgError('42703', 'column does not exist'))],
    ['a lost connection (08006)', pgError('08006')],
    ['the server shutting down (57P01)', pgError('57P01')],
    ['connection refused', pgError('ECONNREFUSED')],
    ['the breaker open', new BrokenCircuitError()],
    ['an error without a code', new Error('something else')],
  ])('%s is not: retried', (_name, e) => {
    expect(isRowRejection(e)).toBe(false);
  });
});
