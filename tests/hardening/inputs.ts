/**
 * Every procedure of the app router, kept by hand: who may call it, and near misses of its real
 * input shape (one field wrong, a required field missing, hostile extra keys, an array where an
 * object belongs, the wrong type altogether). fuzz.test.ts checks this list against the router's
 * keys, so a new procedure fails the suite until it is described here.
 *
 * Strings are hostile by construction: lone surrogates ("abc\ud800"), NUL characters, text far
 * past a field's maximum; numbers are huge, negative or fractional.
 */
import fc from 'fast-check';

/** `operator`: a procedure of the operator console (any role: the suites call it as an admin, whom every role admits). */
export type Caller = 'user' | 'operator';
export type Auth = 'public' | Caller;
export type ProcedureType = 'query' | 'mutation' | 'subscription';

export interface InputShape {
  /** Inputs the procedure's schema accepts (the ground the near misses stand on). */
  valid: fc.Arbitrary<unknown>;
  nearMiss: fc.Arbitrary<unknown>;
}

export interface ProcedureSpec {
  type: ProcedureType;
  auth: Auth;
  /** Null: the procedure takes no input (whatever is sent is ignored, or refused). */
  input: InputShape | null;
}

const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff', 'abc\ud800', '\udc00abc', 'a\ud83d', '\ud83d\ud83d'];

/** One unit of a hostile string: mostly plain, sometimes a lone surrogate, a NUL or any code point. */
const hostileUnit = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'abcXYZ09 _-.') },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constant('\u0000') },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 0x80, max: 0x10ffff })
      .filter((c) => c < 0xd800 || c > 0xdfff)
      .map((c) => String.fromCodePoint(c)),
  },
);

/** fc.anything() with hostile strings, kept small enough for a URL. */
export const hostileAnything = fc.anything({ stringUnit: hostileUnit, maxDepth: 3, maxKeys: 6, withNullPrototype: true });

const hostileString = fc.string({ unit: hostileUnit, maxLength: 24 });
const loneSurrogate = fc.tuple(fc.string({ maxLength: 4 }), fc.constantFrom(...LONE_SURROGATES), fc.string({ maxLength: 4 })).map(([a, b, c]) => a + b + c);
const withNul = fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([a, b]) => `${a}\u0000${b}`);
const hugeNumber = fc.constantFrom(1e308, -1e308, 2 ** 53 + 2, -(2 ** 53) - 2, 1e21, 2 ** 32, 2 ** 31, -1, -(2 ** 31), 0.5, -0.000001);
/** A value of any JSON type but the expected one (the filter drops those that happen to fit). */
const wrongType = fc.oneof(
  fc.boolean(),
  fc.integer(),
  hugeNumber,
  fc.constant(null),
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.anything({ maxDepth: 1 }), { maxKeys: 3 }),
  hostileString,
);
/** Keys that reach for a prototype (parsed from JSON, so "__proto__" is an own key). */
const POLLUTERS = [
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"__proto__":{"isAdmin":true,"state":"IN_CALL"}}',
  '{"prototype":{"polluted":true},"toString":"x","hasOwnProperty":1}',
];

/** A field of an object input: values its schema accepts, values it must refuse, and whether it may be left out. */
class Field {
  constructor(
    readonly valid: fc.Arbitrary<unknown>,
    readonly bad: fc.Arbitrary<unknown>,
    readonly isOptional = false,
  ) {}

  optional(): Field {
    return new Field(this.valid, this.bad, true);
  }
}

function field(valid: fc.Arbitrary<unknown>, bad: fc.Arbitrary<unknown>): Field {
  return new Field(valid, bad);
}

/** A string of `min`..`max` characters; `valid` when its schema asks for more than length. */
function str(min: number, max: number, valid?: fc.Arbitrary<string>) {
  const tooLong = fc.integer({ min: max + 1, max: max + 64 }).map((n) => 'a'.repeat(n));
  // Wide characters only where the result stays well inside a request (an sdp may hold 20,000).
  const tooLongWide = max <= 2000 ? fc.string({ unit: hostileUnit, minLength: max + 1, maxLength: max + 8 }) : tooLong;
  const tooShort = min > 0 ? fc.string({ maxLength: min - 1 }) : fc.constant(undefined);
  const base = valid ?? fc.string({ minLength: min, maxLength: Math.min(max, min + 12), unit: fc.constantFrom(...'abcdefXYZ0123456789') });
  const spiked = fc.tuple(base, fc.oneof(loneSurrogate, withNul)).map(([s, bad]) => (s + bad).slice(0, Math.max(max, 1)));
  return field(base, fc.oneof(tooLong, tooLongWide, tooShort, loneSurrogate, withNul, spiked, wrongType, hostileString));
}

function int(min: number, max: number) {
  const outside = fc.constantFrom(min - 1, max + 1, -1, 0.5, 1e308, -1e308, 2 ** 53 + 2);
  return field(fc.integer({ min, max: Math.min(max, min + 1000) }), fc.oneof(outside, wrongType, fc.integer().map(String)));
}

function oneOf(...values: string[]) {
  return field(fc.constantFrom(...values), fc.oneof(fc.constantFrom(...values.map((v) => v.toLowerCase()), ' IDLE', 'NOPE', ''), loneSurrogate, wrongType));
}

const bool = field(fc.boolean(), fc.oneof(fc.constantFrom('true', 0, 1, 'yes'), wrongType));
const uuid = field(
  fc.uuid({ version: 4 }),
  fc.oneof(
    fc.uuid().map((u) => `${u}x`),
    fc.uuid().map((u) => u.slice(0, 35)),
    fc.uuid().map((u) => `${u.slice(0, 34)}\ud800`),
    fc.uuid().map((u) => `${u}\u0000`),
    loneSurrogate,
    wrongType,
  ),
);
const idempotencyKey = str(8, 100);
const tag = fc.constantFrom('music', 'films', 'chess', 'art');
const language = fc.constantFrom('en', 'fr', 'de');
const pool = str(1, 41, fc.constantFrom('global', 'en', 'pool-1'));
const operatorName = str(1, 64, fc.constantFrom('ann', 'Bob', 'ops-1'));
const operatorRole = oneOf('viewer', 'moderator', 'admin');
const STATES = ['IDLE', 'WAITING', 'CONNECTING', 'IN_CALL', 'DISCONNECTING'];
const deadLetterStatus = field(
  fc.constantFrom('pending', 'retried', 'discarded'),
  fc.oneof(fc.constantFrom('PENDING', 'parked', ''), loneSurrogate, wrongType),
);

/** Builds the valid inputs and the near misses of an object input. */
function shape(fields: Record<string, Field>, opts: { optional?: boolean } = {}): InputShape {
  const names = Object.keys(fields);
  const required = names.filter((n) => !fields[n]!.isOptional);
  const valid = fc.record(Object.fromEntries(names.map((n) => [n, fields[n]!.valid])), { requiredKeys: required });
  const misses: Array<fc.Arbitrary<unknown>> = [
    // An array, or a scalar, where the object belongs.
    valid.map((o) => [o]),
    wrongType,
    loneSurrogate,
    // Hostile extra keys around an otherwise valid object (with one field wrong, or not).
    fc
      .tuple(valid, fc.constantFrom(...POLLUTERS), fc.dictionary(hostileString, hostileAnything, { maxKeys: 3 }))
      .map(([o, p, extra]) => own(JSON.parse(p) as object, extra, o)),
    hostileAnything,
  ];
  if (names.length > 0) {
    // One field wrong.
    const oneWrong = fc.tuple(valid, fc.constantFrom(...names)).chain(([o, n]) => fields[n]!.bad.map((bad) => own({}, o, { [n]: bad })));
    misses.push(oneWrong, oneWrong, oneWrong);
    misses.push(fc.tuple(oneWrong, fc.constantFrom(...POLLUTERS)).map(([o, p]) => own(JSON.parse(p) as object, o)));
  }
  if (required.length > 0) {
    misses.push(fc.tuple(valid, fc.constantFrom(...required)).map(([o, n]) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== n))));
  }
  return { valid: opts.optional ? fc.option(valid, { nil: undefined }) : valid, nearMiss: fc.oneof(...misses) };
}

/** Object.assign without setters: a "__proto__" key stays an own key. */
function own(target: object, ...sources: object[]): object {
  for (const s of sources) {
    for (const [k, v] of Object.entries(s)) Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return target;
}

const lastEventId = str(0, 200);
const events = shape({ lastEventId: lastEventId.optional() }, { optional: true });
const signalData = field(
  fc.constantFrom(
    { kind: 'connected' },
    { kind: 'candidates', candidates: [{ candidate: 'c' }] },
    { kind: 'description', description: { type: 'offer', sdp: 'v=0' } },
    { kind: 'connected', from: 'pc-1', to: 'pc_2' },
    { kind: 'description', description: { type: 'answer', sdp: 'v=0' }, from: 'A'.repeat(40) },
  ),
  fc.oneof(
    // Peer-connection ids: at most 40 of A-Z a-z 0-9 _ -.
    fc.constantFrom(
      { kind: 'connected', from: 'a'.repeat(41) },
      { kind: 'connected', to: 'pc 1' },
      { kind: 'candidates', candidates: [{ candidate: 'c' }], from: 'pc/1' },
      { kind: 'description', description: { type: 'offer' }, to: '' },
      { kind: 'connected', from: 7 },
    ),
    loneSurrogate.map((s) => ({ kind: 'connected', to: s })),
    fc.constantFrom(
      { kind: 'nope' },
      { kind: 'description' },
      { kind: 'description', description: { type: 'nope' } },
      { kind: 'candidates' },
      { kind: 'candidates', candidates: [] },
      { kind: null },
    ),
    fc.integer({ min: 20_001, max: 20_100 }).map((n) => ({ kind: 'description', description: { type: 'offer', sdp: 'a'.repeat(n) } })),
    fc.integer({ min: 1001, max: 1100 }).map((n) => ({ kind: 'candidates', candidates: [{ candidate: 'a'.repeat(n) }] })),
    fc.constantFrom(1e308, 0.5, -1e308).map((n) => ({ kind: 'candidates', candidates: [{ candidate: 'c', sdpMLineIndex: n }] })),
    fc.integer({ min: 21, max: 30 }).map((n) => ({ kind: 'candidates', candidates: Array.from({ length: n }, () => ({ candidate: 'c' })) })),
    loneSurrogate.map((s) => ({ kind: 'description', description: { type: 'offer', sdp: s } })),
    wrongType,
  ),
);

/** An ALTCHA solution as the schema takes it (never a correct one: these calls are refused CHALLENGE_FAILED, or ignored). */
const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const altcha = field(
  fc.record({
    challenge: fc.record({
      parameters: fc.record({
        algorithm: fc.constant('SHA-256'),
        nonce: hex(32),
        salt: hex(32),
        cost: fc.integer({ min: 1, max: 10 }),
        keyLength: fc.constant(32),
        keyPrefix: hex(16),
        keySignature: hex(64),
        expiresAt: fc.integer({ min: 1, max: 2 ** 40 }),
      }),
      signature: hex(64),
    }),
    solution: fc.record({ counter: fc.integer({ min: 0, max: 100_000 }), derivedKey: hex(64) }),
  }),
  fc.oneof(
    fc.constant({ challenge: { parameters: {}, signature: 'x' }, solution: { counter: 1, derivedKey: 'ab' } }),
    fc.constant({ challenge: { parameters: { algorithm: 'MD5' }, signature: 'x' }, solution: {} }),
    fc.constant({ solution: { counter: -1, derivedKey: 'ab' } }),
    loneSurrogate,
    wrongType,
  ),
);

export const PROCEDURES: Record<string, ProcedureSpec> = {
  'session.create': {
    type: 'mutation',
    auth: 'public',
    input: shape(
      {
        displayName: str(1, 32, fc.constantFrom('Ann', 'Bo b', "O'Neil")).optional(),
        consent: field(
          fc.record({ ageBracket: fc.constantFrom('18+', '13-17', 'under-13'), acceptRules: fc.constant(true) }),
          fc.oneof(fc.constant({ ageBracket: '18+', acceptRules: false }), fc.constant({ ageBracket: 'adult', acceptRules: true }), wrongType),
        ).optional(),
        deviceId: uuid.optional(),
        altcha: altcha.optional(),
      },
      { optional: true },
    ),
  },
  'session.me': { type: 'query', auth: 'user', input: null },
  // Public (a beacon cannot set headers): the token in the body is checked inside (never a real one here).
  'session.leave': { type: 'mutation', auth: 'public', input: shape({ token: str(1, 2000) }) },
  'match.enqueue': {
    type: 'mutation',
    auth: 'user',
    input: shape({
      interests: field(
        fc.array(tag, { maxLength: 3 }),
        fc.oneof(fc.array(tag, { minLength: 11, maxLength: 12 }), fc.array(str(1, 24, tag).bad, { minLength: 1, maxLength: 2 }), wrongType),
      ).optional(),
      language: str(2, 8, language).optional(),
      region: str(2, 8, fc.constantFrom('eu', 'na')).optional(),
      idempotencyKey: idempotencyKey.optional(),
      privacy: bool.optional(),
    }),
  },
  'match.cancel': { type: 'mutation', auth: 'user', input: shape({ idempotencyKey: idempotencyKey.optional() }, { optional: true }) },
  'match.skip': { type: 'mutation', auth: 'user', input: shape({ matchId: uuid.optional(), idempotencyKey: idempotencyKey.optional() }, { optional: true }) },
  'match.end': { type: 'mutation', auth: 'user', input: shape({ matchId: uuid.optional(), idempotencyKey: idempotencyKey.optional() }, { optional: true }) },
  'match.joined': { type: 'mutation', auth: 'user', input: shape({ matchId: uuid }) },
  'match.block': { type: 'mutation', auth: 'user', input: shape({ userId: uuid }) },
  'match.unblock': { type: 'mutation', auth: 'user', input: shape({ userId: uuid }) },
  'match.events': { type: 'subscription', auth: 'user', input: events },
  'chat.send': { type: 'mutation', auth: 'user', input: shape({ matchId: uuid, text: str(1, 2000), clientMessageId: str(8, 64) }) },
  'chat.typing': { type: 'mutation', auth: 'user', input: shape({ matchId: uuid, typing: bool }) },
  'signal.send': { type: 'mutation', auth: 'user', input: shape({ matchId: uuid, data: signalData }) },
  'signal.media': { type: 'mutation', auth: 'user', input: shape({ matchId: uuid, audio: bool, video: bool, failed: bool.optional() }) },
  'signal.path': { type: 'mutation', auth: 'user', input: shape({ matchId: uuid, path: oneOf('relay', 'direct') }) },
  'stats.online': { type: 'query', auth: 'user', input: null },
  'presence.heartbeat': { type: 'mutation', auth: 'user', input: null },
  'safety.myReports': { type: 'query', auth: 'user', input: null },
  'safety.solveChallenge': { type: 'mutation', auth: 'user', input: shape({ altcha }) },
  'safety.appeal': { type: 'mutation', auth: 'public', input: shape({ receiptId: uuid, text: str(10, 2000) }) },
  'safety.report': {
    type: 'mutation',
    auth: 'user',
    input: shape({
      matchId: uuid,
      reason: oneOf('sexual', 'minor', 'harassment', 'spam', 'violence', 'other'),
      note: str(0, 500).optional(),
      // The first bytes of a JPEG, base64; not base64 at all is refused.
      snapshot: field(fc.constant('/9j/4AAQSkZJRgABAQ=='), fc.oneof(fc.constantFrom('not base64!', '%%%'), wrongType)).optional(),
      block: bool.optional(),
    }),
  },
  'presence.events': { type: 'subscription', auth: 'user', input: events },
  'operators.me': { type: 'query', auth: 'public', input: null },
  'operators.login': { type: 'mutation', auth: 'public', input: shape({ name: operatorName, password: str(1, 256) }) },
  'operators.bootstrap': { type: 'mutation', auth: 'public', input: shape({ name: operatorName, password: str(12, 256) }) },
  'operators.logout': { type: 'mutation', auth: 'operator', input: null },
  'operators.list': { type: 'query', auth: 'operator', input: null },
  'operators.create': { type: 'mutation', auth: 'operator', input: shape({ name: operatorName, password: str(12, 256), role: operatorRole }) },
  'operators.update': { type: 'mutation', auth: 'operator', input: shape({ id: uuid, role: operatorRole.optional(), disabled: bool.optional() }) },
  'operators.changePassword': { type: 'mutation', auth: 'operator', input: shape({ current: str(1, 256), next: str(12, 256) }) },
  'operators.actions': {
    type: 'query',
    auth: 'operator',
    input: shape({ limit: int(1, 500).optional(), operatorId: uuid.optional(), target: str(1, 200).optional() }, { optional: true }),
  },
  'admin.counts': { type: 'query', auth: 'operator', input: shape({ pool: pool.optional() }, { optional: true }) },
  'admin.usersIn': {
    type: 'query',
    auth: 'operator',
    input: shape({ pool: pool.optional(), state: oneOf(...STATES), offset: int(0, 2 ** 31).optional(), limit: int(1, 1000).optional() }),
  },
  'admin.stuck': {
    type: 'query',
    auth: 'operator',
    input: shape({ pool: pool.optional(), state: oneOf(...STATES), olderThanMs: int(0, 2 ** 31), limit: int(1, 1000).optional() }),
  },
  'admin.user': { type: 'query', auth: 'operator', input: shape({ userId: str(1, 100) }) },
  'admin.force': {
    type: 'mutation',
    auth: 'operator',
    input: shape({ userId: str(1, 100), to: oneOf(...STATES), reason: str(3, 200) }),
  },
  'admin.consistency': { type: 'mutation', auth: 'operator', input: shape({ pool: pool.optional(), repair: bool.optional() }) },
  'admin.checkpoint': { type: 'mutation', auth: 'operator', input: null },
  'admin.rollbackUser': { type: 'mutation', auth: 'operator', input: shape({ userId: str(1, 100) }) },
  'admin.rollbackMatch': { type: 'mutation', auth: 'operator', input: shape({ matchId: str(1, 100) }) },
  'admin.health': { type: 'query', auth: 'operator', input: null },
  'admin.moderation.ban': {
    type: 'mutation',
    auth: 'operator',
    input: shape({
      userId: str(1, 100),
      durationMs: field(fc.oneof(fc.integer({ min: 60_000, max: 10 ** 9 }), fc.constant(null)), fc.constantFrom(0, -1, 59_999, 0.5, '60000', true)),
      reason: str(3, 200),
    }),
  },
  'admin.moderation.reports': { type: 'query', auth: 'operator', input: shape({ limit: int(1, 500).optional() }, { optional: true }) },
  'admin.moderation.decide': {
    type: 'mutation',
    auth: 'operator',
    input: shape({
      reportId: uuid,
      decision: oneOf('dismiss', 'ban'),
      reason: str(3, 200),
      durationMs: field(fc.oneof(fc.integer({ min: 60_000, max: 10 ** 9 }), fc.constant(null)), fc.constantFrom(0, -1, 59_999, 0.5, '60000', true)).optional(),
    }),
  },
  'admin.moderation.appeals': { type: 'query', auth: 'operator', input: shape({ limit: int(1, 500).optional() }, { optional: true }) },
  'admin.moderation.decideAppeal': {
    type: 'mutation',
    auth: 'operator',
    input: shape({ appealId: uuid, upheld: bool, reason: str(3, 200) }),
  },
  'admin.moderation.warn': { type: 'mutation', auth: 'operator', input: shape({ userId: str(1, 100), message: str(3, 300) }) },
  'admin.moderation.history': { type: 'query', auth: 'operator', input: shape({ userId: str(1, 100) }) },
  'admin.moderation.lift': { type: 'mutation', auth: 'operator', input: shape({ userId: str(1, 100), reason: str(3, 200) }) },
  'admin.pools.pause': {
    type: 'mutation',
    auth: 'operator',
    input: shape({ pool: pool.optional(), reason: str(3, 200), minutes: int(1, 1440).optional() }),
  },
  'admin.pools.resume': { type: 'mutation', auth: 'operator', input: shape({ pool: pool.optional() }) },
  'admin.deadLetters.list': {
    type: 'query',
    auth: 'operator',
    input: shape({ status: deadLetterStatus.optional(), offset: int(0, 2 ** 31).optional(), limit: int(1, 500).optional() }, { optional: true }),
  },
  'admin.deadLetters.retry': { type: 'mutation', auth: 'operator', input: shape({ id: str(1, 200) }) },
  'admin.deadLetters.discard': { type: 'mutation', auth: 'operator', input: shape({ id: str(1, 200) }) },
  'admin.audit.user': { type: 'query', auth: 'operator', input: shape({ userId: str(1, 100), limit: int(1, 5000).optional() }) },
  'admin.audit.match': { type: 'query', auth: 'operator', input: shape({ matchId: str(1, 100) }) },
  // The console's live data and actions (server/ops/router.ts).
  'admin.overview': { type: 'query', auth: 'operator', input: null },
  'admin.funnel': { type: 'query', auth: 'operator', input: shape({ minutes: int(5, 180).optional() }, { optional: true }) },
  'admin.lookup': { type: 'query', auth: 'operator', input: shape({ query: str(1, 100) }) },
  'admin.userDetail': { type: 'query', auth: 'operator', input: shape({ userId: str(1, 100) }) },
  'admin.endMatch': { type: 'mutation', auth: 'operator', input: shape({ matchId: uuid, reason: str(3, 200) }) },
  'admin.disconnect': { type: 'mutation', auth: 'operator', input: shape({ userId: str(1, 100), reason: str(3, 200) }) },
  'admin.switches.get': { type: 'query', auth: 'operator', input: null },
  'admin.switches.set': {
    type: 'mutation',
    auth: 'operator',
    input: shape({ stopMatching: bool.optional(), textOnly: bool.optional(), tightLimits: bool.optional(), reason: str(3, 200) }),
  },
  'admin.recovery': { type: 'query', auth: 'operator', input: null },
  'admin.privacy.export': { type: 'query', auth: 'operator', input: shape({ userId: str(1, 100) }) },
  'admin.privacy.erase': { type: 'mutation', auth: 'operator', input: shape({ userId: str(1, 100), reason: str(3, 200) }) },
};
