import { describe, expect, it } from 'vitest';
import { describeDbError, isRowRejection, isTransientDbError } from '../../server/audit/db-errors';
import { classify, isDependencyFailure } from '../../server/resilience/classify';
import { applyIsolating } from '../../server/audit/isolate';
import { PoisonRecordError, parseEntry, validateRecord, type OutboxEntry, type OutboxRecord } from '../../server/audit/records';
import { toRows } from '../../server/audit/rows';

const base = { eventId: 'e1', pool: 'global', at: 1_700_000_000_000 };

describe('outbox records (pure)', () => {
  it('a record as lib.lua writes it (cjson nulls, no reason) is accepted', () => {
    const json =
      '{"kind":"transition","userId":"u1","from":"IDLE","to":"WAITING","matchId":null,"actor":null,"version":1,"eventId":"global-1-1","pool":"global","at":1700000000000}';
    expect(parseEntry('global', '1-0', ['e', json]).rec).toMatchObject({ kind: 'transition', userId: 'u1', version: 1 });
  });

  it.each([
    ['no payload field', ['x', '{}'], /no payload/],
    ['not JSON', ['e', '{'], /not JSON/],
    ['no event id', ['e', JSON.stringify({ ...base, eventId: '', kind: 'match_connected', matchId: 'm' })], /eventId/],
    ['an unknown kind', ['e', JSON.stringify({ ...base, kind: 'teleport' })], /unknown kind "teleport"/],
    ['a missing field', ['e', JSON.stringify({ ...base, kind: 'match_ended', matchId: 'm' })], /reason should be a string/],
    [
      'a field of the wrong type',
      ['e', JSON.stringify({ ...base, kind: 'transition', userId: 'u', from: 'A', to: 'B', version: '2' })],
      /version should be a finite number/,
    ],
    ['a time out of range', ['e', JSON.stringify({ ...base, at: 1e300, kind: 'match_connected', matchId: 'm' })], /at is not a time/],
  ])('an entry with %s is a poison record, named as such', (_name, fields, message) => {
    expect(() => parseEntry('global', '5-0', fields)).toThrow(PoisonRecordError);
    expect(() => parseEntry('global', '5-0', fields)).toThrow(message);
  });

  it('a poison record keeps the kind and event id it could read, for the dead letter', () => {
    try {
      validateRecord({ ...base, kind: 'match_ended', matchId: 'm' });
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ kind: 'match_ended', eventId: 'e1', code: 'POISON_RECORD' });
    }
  });

  it('match updates keep the first connected/ended per match and remember every record behind them', () => {
    const recs: OutboxRecord[] = [
      { ...base, eventId: 'a', kind: 'match_ended', matchId: 'm', reason: 'skip', endedBy: 'u' },
      { ...base, eventId: 'b', kind: 'match_ended', matchId: 'm', reason: 'end', endedBy: 'v', at: base.at + 5 },
      { ...base, eventId: 'c', kind: 'repair', userId: 'u', removed: [], added: [], state: 'IDLE' },
    ];
    const rows = toRows(recs);
    expect([...rows.ended.values()]).toEqual([{ row: { id: 'm', at: new Date(base.at).toISOString(), reason: 'skip', ended_by: 'u' }, indexes: [0, 1] }]);
    expect(rows.errors).toHaveLength(1);
    expect(rows.errors[0]).toMatchObject({ code: 'STATE_REPAIRED', user_id: 'u' });
  });
});

describe('classifying database errors (pure)', () => {
  const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  /** What drizzle throws: the query and its parameters in the message, the driver error as cause. */
  const drizzle = (cause: unknown, params = 'CONNECTING,match_connected,timeout') =>
    Object.assign(new Error(`Failed query: insert ...\nparams: ${params}`), { query: 'insert ...', cause });

  it.each([
    ['connection refused', drizzle(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))],
    ['the server shutting down', drizzle(pgError('57P01', 'terminating connection due to administrator command'))],
    ['a connection exception class', pgError('08006')],
    ['out of disk', pgError('53100')],
    ['a deadlock', pgError('40P01')],
    ['a dropped connection (no code)', drizzle(new Error('Connection terminated unexpectedly'))],
    ['a pool connect timeout (no code)', new Error('timeout exceeded when trying to connect')],
  ])('%s is transient: retry the whole batch', (_name, e) => {
    expect(isTransientDbError(e)).toBe(true);
  });

  it.each([
    ['bad data', drizzle(pgError('22P05', 'unsupported Unicode escape sequence'))],
    ['a constraint', drizzle(pgError('23502', 'null value in column'))],
    ['a statement timeout', drizzle(pgError('57014', 'canceling statement due to statement timeout'))],
    ['a query quoting "connect" and "timeout" in its parameters', drizzle(pgError('22P02', 'invalid input syntax'))],
  ])('%s is about the rows: isolate them', (_name, e) => {
    expect(isTransientDbError(e)).toBe(false);
  });

  it('agrees with the shared classification: what it calls a Postgres failure the drain holds, except what only concerns the statement', () => {
    for (const code of ['08006', '53100', '58030', '57P01', '57P04', '57P05', '40001', '55P03']) {
      expect([code, isDependencyFailure(classify(pgError(code), { dependency: 'postgres' })), isTransientDbError(pgError(code))]).toEqual([code, true, true]);
    }
    for (const code of ['22P05', '23502', '23514']) expect([code, isRowRejection(pgError(code))]).toEqual([code, true]);
    // Isolated and retried by delivery count: a statement timeout, a missing column, a duplicate.
    for (const code of ['57014', '42703', '23505'])
      expect([code, isTransientDbError(pgError(code)), isRowRejection(pgError(code))]).toEqual([code, false, false]);
  });

  it("a dead letter's error is the driver's code and message, not the query", () => {
    expect(describeDbError(drizzle(pgError('22P05', 'unsupported Unicode escape sequence')))).toBe('22P05 unsupported Unicode escape sequence');
  });
});

describe('isolating bad records by halving (pure, with a stand-in apply)', () => {
  const entries = (n: number): OutboxEntry[] =>
    Array.from({ length: n }, (_, i) => ({
      streamId: `${i}-0`,
      pool: 'global',
      rec: { ...base, eventId: `e${i}`, kind: 'match_connected', matchId: `m${i}` },
    }));

  it('commits every good record, names each bad one, and needs far fewer attempts than one per record', async () => {
    let calls = 0;
    const bad = new Set(['e3', 'e40']);
    const apply = async (recs: OutboxRecord[]) => {
      calls++;
      if (recs.some((r) => bad.has(r.eventId))) throw Object.assign(new Error('bad row'), { code: '22P02' });
      return { deferred: [] };
    };
    const r = await applyIsolating(apply, entries(64));
    expect(r.committed).toHaveLength(62);
    expect(r.failed.map((f) => f.entry.rec.eventId)).toEqual(['e3', 'e40']);
    expect(r.failed[0]!.error).toBe('22P02 bad row');
    expect(calls).toBeLessThan(30);
    // Stream order is kept among the committed ones.
    expect(r.committed.map((e) => e.rec.eventId)).toEqual(
      entries(64)
        .map((e) => e.rec.eventId)
        .filter((id) => !bad.has(id)),
    );
  });

  it('a transient failure is rethrown untouched, nothing is split', async () => {
    let calls = 0;
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    await expect(
      applyIsolating(async () => {
        calls++;
        throw down;
      }, entries(8)),
    ).rejects.toBe(down);
    expect(calls).toBe(1);
  });

  it('deferred records come back by entry, with their reason', async () => {
    const r = await applyIsolating(async () => ({ deferred: [{ index: 1, reason: 'match m1 is not in Postgres yet' }] }), entries(3));
    expect(r.committed.map((e) => e.streamId)).toEqual(['0-0', '2-0']);
    expect(r.deferred).toEqual([{ entry: expect.objectContaining({ streamId: '1-0' }) as unknown, error: 'match m1 is not in Postgres yet' }]);
  });
});
