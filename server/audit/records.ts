/**
 * Outbox records: what the state scripts (and AuditRecorder) append to a pool's outbox stream as
 * one field `e` holding JSON, and how each kind is validated. Pure: parsing and checking only.
 *
 * A record that cannot be read, has an unknown kind or lacks a required field is a
 * PoisonRecordError: it can never succeed, so the drain dead-letters it at once instead of
 * retrying it (a newer server's kind reaching an older drain is kept there for replay).
 *
 * Strings Postgres cannot store (a NUL, half a surrogate pair) are replaced as a record is read
 * (`storable`), whoever wrote it: a Lua script, the recorder, a webhook's body, a spool file or
 * another server version. Replaced, not refused: the record is still true without them.
 */
export interface OutboxEntry {
  streamId: string;
  pool: string;
  rec: OutboxRecord;
}

interface Base {
  eventId: string;
  pool: string;
  /** Epoch milliseconds of the state change (the script's injected clock). */
  at: number;
}

export type TransitionRecord = Base & {
  kind: 'transition';
  userId: string;
  from: string;
  to: string;
  reason?: string | null;
  matchId?: string | null;
  actor?: string | null;
  version: number;
};
export type MatchCreatedRecord = Base & {
  kind: 'match_created';
  matchId: string;
  userA: string;
  userB: string;
  mode: string;
  waitedA?: number;
  waitedB?: number;
};
export type MatchConnectedRecord = Base & { kind: 'match_connected'; matchId: string };
export type MatchEndedRecord = Base & { kind: 'match_ended'; matchId: string; reason: string; endedBy?: string | null };
export type MatchRoomRecord = Base & { kind: 'match_room'; matchId: string; room?: string | null; mode: string };
export type RepairRecord = Base & { kind: 'repair'; userId: string; removed: unknown; added: unknown; lobby?: unknown; state: unknown };
export type ErrorRecord = Base & {
  kind: 'error';
  category: string;
  type: string;
  severity: string;
  code?: string | null;
  operation?: string | null;
  message: string;
  context?: unknown;
  strategy?: string | null;
  recovered?: boolean | null;
  userId?: string | null;
};
export type RecoveryRecord = Base & { kind: 'recovery'; failureType: string; strategy: string; outcome: string; durationMs: number; context?: unknown };
export type BreakerRecord = Base & { kind: 'breaker'; dependency: string; state: string; instance?: string | null };
export type CheckpointRecord = Base & { kind: 'checkpoint'; checkpointKind: string; subjectId: string; snapshot: unknown };
export type WebhookRecord = Base & { kind: 'webhook'; event: string; room?: string | null; participant?: string | null; valid: boolean; payload?: unknown };
/** A chat message relayed (relay-2.lua): the text as typed, and what the receiver saw masked (comma-separated kinds). */
export type ChatRecord = Base & { kind: 'chat'; matchId: string; from: string; to: string; clientMessageId: string; text: string; masked?: string | null };

export type OutboxRecord =
  | TransitionRecord
  | MatchCreatedRecord
  | MatchConnectedRecord
  | MatchEndedRecord
  | MatchRoomRecord
  | RepairRecord
  | ErrorRecord
  | RecoveryRecord
  | BreakerRecord
  | CheckpointRecord
  | WebhookRecord
  | ChatRecord;
export type RecordKind = OutboxRecord['kind'];

export class PoisonRecordError extends Error {
  readonly code = 'POISON_RECORD';
  constructor(
    message: string,
    /** The record's kind and event id when they could be read. */
    readonly kind: string | null = null,
    readonly eventId: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'PoisonRecordError';
  }
}
export function isPoisonRecordError(e: unknown): e is PoisonRecordError {
  return e instanceof PoisonRecordError;
}

/** s: string, s?: optional string (null allowed), n: finite number, n?: optional, b/b?: boolean, any: present. */
type FieldRule = 's' | 's?' | 'n' | 'n?' | 'b' | 'b?' | 'any';

const FIELDS: Record<RecordKind, Record<string, FieldRule>> = {
  transition: { userId: 's', from: 's', to: 's', reason: 's?', matchId: 's?', actor: 's?', version: 'n' },
  match_created: { matchId: 's', userA: 's', userB: 's', mode: 's', waitedA: 'n?', waitedB: 'n?' },
  match_connected: { matchId: 's' },
  match_ended: { matchId: 's', reason: 's', endedBy: 's?' },
  match_room: { matchId: 's', room: 's?', mode: 's' },
  repair: { userId: 's' },
  error: { category: 's', type: 's', severity: 's', code: 's?', operation: 's?', message: 's', strategy: 's?', recovered: 'b?', userId: 's?' },
  recovery: { failureType: 's', strategy: 's', outcome: 's', durationMs: 'n' },
  breaker: { dependency: 's', state: 's', instance: 's?' },
  checkpoint: { checkpointKind: 's', subjectId: 's', snapshot: 'any' },
  webhook: { event: 's', room: 's?', participant: 's?', valid: 'b' },
  chat: { matchId: 's', from: 's', to: 's', clientMessageId: 's', text: 's', masked: 's?' },
};

/** The latest instant a JavaScript Date can hold; anything outside is not a time. */
const MAX_TIME_MS = 8.64e15;

export function parseEntry(pool: string, streamId: string, fields: string[]): OutboxEntry {
  const json = fields[1];
  if (fields[0] !== 'e' || json === undefined) throw new PoisonRecordError(`outbox entry ${streamId} has no payload`);
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new PoisonRecordError(`outbox entry ${streamId} is not JSON`, null, null, { cause: e });
  }
  if (MAYBE_UNSTORABLE.test(json)) value = storable(value);
  return { streamId, pool, rec: validateRecord(value, `outbox entry ${streamId}`) };
}

/** NUL, and a UTF-16 surrogate without its pair: Postgres text and jsonb refuse both (22021, 22P05, 22P02). */
// eslint-disable-next-line no-control-regex -- NUL is exactly what has to go
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/**
 * Whether a record's JSON text may hold one: JSON.stringify and cjson write NUL and lone
 * surrogates as \u escapes (raw NUL is not even valid JSON), so one test of the text spares
 * nearly every record the walk below. A false alarm (an escaped backslash, a whole pair) costs
 * only the walk.
 */
const MAYBE_UNSTORABLE = /\\u(?:0000|[dD][89a-fA-F])|[\uD800-\uDFFF]/;

/**
 * The same value with every string in it, object keys included, made storable as Postgres text
 * and jsonb: each NUL and each half of a surrogate pair becomes U+FFFD, which shows that
 * something was there. For values as JSON.parse makes them (plain objects, arrays, primitives).
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string') return value.replace(UNSTORABLE, '\uFFFD') as T;
  if (Array.isArray(value)) return value.map(storable) as T;
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, x]) => [storable(k), storable(x)])) as T;
  return value;
}

/** Checks a decoded record against its kind's fields; throws PoisonRecordError naming the problem. */
export function validateRecord(value: unknown, where = 'record'): OutboxRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PoisonRecordError(`${where} is not an object`);
  const r = value as Record<string, unknown>;
  const kind = typeof r.kind === 'string' ? r.kind : null;
  const eventId = typeof r.eventId === 'string' && r.eventId.length > 0 ? r.eventId : null;
  const fail = (why: string) => new PoisonRecordError(`${where}: ${why}`, kind, eventId);
  if (!eventId) throw fail('eventId is missing');
  if (!kind) throw fail('kind is missing');
  if (typeof r.pool !== 'string') throw fail('pool is missing');
  if (typeof r.at !== 'number' || !Number.isFinite(r.at) || Math.abs(r.at) > MAX_TIME_MS) throw fail('at is not a time in milliseconds');
  const rules = (FIELDS as Record<string, Record<string, FieldRule> | undefined>)[kind];
  if (!rules) throw fail(`unknown kind "${kind}"`);
  for (const [name, rule] of Object.entries(rules)) {
    if (!fits(r[name], rule)) throw fail(`${name} should be ${describe(rule)}`);
  }
  return value as OutboxRecord;
}

function fits(v: unknown, rule: FieldRule): boolean {
  const optional = rule.endsWith('?');
  if (v === undefined || v === null) return optional || (rule === 'any' && v === null);
  switch (rule[0]) {
    case 's':
      return typeof v === 'string';
    case 'n':
      return typeof v === 'number' && Number.isFinite(v);
    case 'b':
      return typeof v === 'boolean';
    default:
      return true;
  }
}

function describe(rule: FieldRule): string {
  const what = { s: 'a string', n: 'a finite number', b: 'a boolean', a: 'present' }[rule[0] as 's' | 'n' | 'b' | 'a'];
  return rule.endsWith('?') ? `${what} or absent` : what;
}

/** The time an outbox entry was appended (Redis server clock), from its stream id. */
export function streamIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}
