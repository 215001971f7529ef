/**
 * Error classification: one ordered table from what was thrown to category, type, severity and
 * the recovery strategy (model.ts). Pure (no I/O, no clock), so the whole table is unit-tested.
 *
 *   transient  -> retry with backoff, reconnect, or back off with jitter (rate limits, shedding)
 *   persistent -> re-authenticate, roll back to a checkpoint, or open the breaker and alert
 *   critical   -> pause the pool (data inconsistency), end the session (security), shut down
 *
 * The first matching row wins. A wrapper (our SERVICE_UNAVAILABLE, undici's "fetch failed")
 * is classified by its cause when the cause is recognized, so Redis's OOM behind
 * SERVICE_UNAVAILABLE is resource exhaustion, not a blip. `hint.dependency` names the policy
 * the call ran under; cockatiel's own errors (breaker open, timeout, bulkhead full) and HTTP
 * statuses take their type from it.
 */
import { Category as C, ErrorType as T, Severity as S, Strategy as R, type Classification, type Dependency, type ErrorType } from './model';
import { codeOf, signalsOf, type Signals } from './signals';
import { row, sqlstateRow, type Row } from './sqlstate';

export interface ClassifyHint {
  dependency?: Dependency | null;
}

type Rule = readonly [name: string, when: (s: Signals) => boolean, then: Row | ((s: Signals, dep: ErrorType) => Row)];

const msg = (re: RegExp) => (s: Signals) => re.test(s.message);
const code =
  (...codes: string[]) =>
  (s: Signals) =>
    s.code !== null && codes.includes(s.code);
const errno =
  (...codes: string[]) =>
  (s: Signals) =>
    s.errno !== null && codes.includes(s.errno);

/** Redis error replies start with an upper-case word. */
const reply = (word: string) => (s: Signals) => s.message.startsWith(`${word} `) || s.message === word;

const RULES: readonly Rule[] = [
  // cockatiel: the policy said no before (or instead of) the dependency answering.
  ['breaker open', (s) => s.cockatiel === 'broken_circuit', (_, dep) => row(C.Transient, dep, S.Medium, R.RetryBackoff, false)],
  ['policy timeout', (s) => s.cockatiel === 'task_cancelled', row(C.Transient, T.Timeout, S.Medium, R.RetryBackoff)],
  ['bulkhead full', (s) => s.cockatiel === 'bulkhead_rejected', (_, dep) => row(C.Transient, dep, S.Medium, R.RetryJitter, false)],

  // Our own critical errors.
  ['security violation', code('SECURITY_VIOLATION'), row(C.Critical, T.Security, S.Critical, R.EndSession, false)],
  ['forged token', (s) => s.code === 'INVALID_TOKEN' && s.reason === 'forged', row(C.Critical, T.Security, S.Critical, R.EndSession, false)],
  ['data inconsistency', code('DATA_INCONSISTENT'), row(C.Critical, T.Matching, S.Critical, R.PausePool, false)],
  ['system failure', code('SYSTEM_FAILURE', 'CONFIG_INVALID', 'STARTUP_FAILED'), row(C.Critical, T.Internal, S.Critical, R.Shutdown, false)],

  // Domain errors (server/state/errors.ts, server/session/token.ts, tRPC edge codes).
  ['store unavailable', code('SERVICE_UNAVAILABLE'), row(C.Transient, T.Redis, S.High, R.Reconnect)],
  ['version conflict', code('VERSION_CONFLICT'), row(C.Transient, T.Matching, S.Low, R.RetryBackoff)],
  ['pair inconsistent', code('PAIR_INCONSISTENT'), row(C.Persistent, T.Matching, S.Medium, R.Rollback, false)],
  ['caller in the wrong state', code('INVALID_TRANSITION', 'WRONG_STATE', 'NOT_IN_MATCH'), row(C.Persistent, T.Validation, S.Low, R.Reject)],
  ['bad input', code('INVALID_INPUT', 'BAD_REQUEST', 'PAYLOAD_TOO_LARGE'), row(C.Persistent, T.Validation, S.Low, R.Reject)],
  ['bad input (zod)', (s) => s.name === 'ZodError', row(C.Persistent, T.Validation, S.Low, R.Reject)],
  ['session invalid', code('INVALID_TOKEN', 'UNAUTHORIZED'), row(C.Persistent, T.Auth, S.Low, R.Reauthenticate)],
  ['rate limited', code('RATE_LIMITED', 'TOO_MANY_REQUESTS'), row(C.Transient, T.Security, S.Low, R.RetryJitter, false)],
  [
    'call set-up failed',
    code('CONNECT_TIMEOUT', 'CALL_SETUP_FAILED', 'ROOM_SETUP_FAILED', 'PARTNER_DISCONNECTED'),
    row(C.Transient, T.Room, S.Low, R.RetryBackoff, false),
  ],
  ['call lost in recovery', code('CALL_LOST_IN_RECOVERY'), row(C.Transient, T.Matching, S.Low, R.Reject, false)],
  ['no checkpoint', code('NO_CHECKPOINT'), row(C.Persistent, T.Validation, S.Low, R.Reject)],
  ['forged webhook', code('INVALID_WEBHOOK'), row(C.Persistent, T.Security, S.Medium, R.Reject)],
  ['poison outbox record', code('POISON_RECORD'), row(C.Persistent, T.Validation, S.Medium, R.Alert)],

  // ioredis client states (the connection, not the server, said no).
  ['redis max retries', (s) => s.name === 'MaxRetriesPerRequestError', row(C.Transient, T.Redis, S.High, R.Reconnect)],
  // Held after a reconnect until the epoch guard knows Redis still has our data (server/checkpoint/epoch.ts).
  ['redis not checked yet', (s) => s.name === 'RedisNotReadyError', row(C.Transient, T.Redis, S.High, R.Reconnect)],
  // Held while Redis turned out to have lost its data: refused, the caller reads again and retries.
  ['redis data lost under a held call', (s) => s.name === 'HeldAcrossDataLossError', row(C.Transient, T.Redis, S.Medium, R.Reject, false)],
  ['redis connection closed', msg(/^Connection is closed\.?$/), row(C.Transient, T.Redis, S.High, R.Reconnect)],
  ['redis offline', msg(/^Stream isn't writeable/), row(C.Transient, T.Redis, S.High, R.Reconnect)],
  ['redis command timeout', msg(/^Command timed out$/), row(C.Transient, T.Timeout, S.Medium, R.RetryBackoff)],
  // Redis error replies.
  ['redis loading', reply('LOADING'), row(C.Transient, T.Redis, S.Medium, R.RetryBackoff)],
  ['redis failover', (s) => ['READONLY', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN'].some((w) => reply(w)(s)), row(C.Transient, T.Redis, S.High, R.Reconnect)],
  // A script touching an undeclared missing key while its slot moves (see lib.lua begin_call): nothing was written.
  ['redis slot moving', msg(/non local key/), row(C.Transient, T.Redis, S.Low, R.RetryBackoff)],
  ['redis busy script', reply('BUSY'), row(C.Transient, T.Redis, S.Medium, R.RetryBackoff)],
  ['redis script flushed', reply('NOSCRIPT'), row(C.Transient, T.Redis, S.Low, R.RetryBackoff)],
  ['redis out of memory', reply('OOM'), row(C.Persistent, T.Redis, S.High, R.BreakAndAlert, false)],
  ['redis cannot persist', reply('MISCONF'), row(C.Persistent, T.Redis, S.High, R.BreakAndAlert, false)],
  ['redis lost auth', reply('NOAUTH'), row(C.Persistent, T.Auth, S.High, R.Reauthenticate, false)],
  ['redis bad credentials', (s) => reply('WRONGPASS')(s) || reply('NOPERM')(s), row(C.Persistent, T.Auth, S.High, R.BreakAndAlert, false)],
  ['redis wrong key type', reply('WRONGTYPE'), row(C.Critical, T.Redis, S.Critical, R.PausePool, false)],
  ['redis script error', msg(/^ERR (Error running script|user_script)/), row(C.Persistent, T.Internal, S.High, R.Alert, false)],

  // Postgres: by SQLSTATE class (sqlstate.ts), then node-postgres's own connection messages.
  ['postgres sqlstate', (s) => s.sqlstate !== null, (s) => sqlstateRow(s.sqlstate ?? '')],
  [
    'postgres connection lost',
    msg(
      /^Connection terminated|^Client has encountered a connection error and is not queryable|^Client was closed and is not queryable|^Cannot use a pool after calling end on the pool|^PGlite is closed/,
    ),
    row(C.Transient, T.Postgres, S.High, R.Reconnect),
  ],
  ['postgres pool timeout', msg(/^timeout exceeded when trying to connect|^Query read timeout/), row(C.Transient, T.Timeout, S.Medium, R.RetryBackoff)],

  // Sockets, DNS, fetch.
  [
    'connection refused or dropped',
    errno('ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ENOTCONN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'),
    (_, dep) => row(C.Transient, dep, S.High, R.Reconnect),
  ],
  [
    'network unreachable',
    errno('EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN'),
    row(C.Transient, T.Network, S.High, R.Reconnect),
  ],
  [
    'socket timeout',
    errno('ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'),
    row(C.Transient, T.Timeout, S.Medium, R.RetryBackoff),
  ],
  ['out of descriptors or memory', errno('EMFILE', 'ENFILE', 'ENOMEM', 'ENOSPC'), row(C.Persistent, T.Internal, S.Critical, R.BreakAndAlert, false)],
  ['fetch timeout', (s) => s.name === 'TimeoutError', row(C.Transient, T.Timeout, S.Medium, R.RetryBackoff)],
  ['fetch aborted', (s) => s.name === 'AbortError', row(C.Transient, T.Timeout, S.Low, R.Reject, false)],
  ['fetch failed', (s) => s.name === 'TypeError' && s.message === 'fetch failed', (_, dep) => row(C.Transient, dep, S.High, R.Reconnect)],

  // HTTP statuses (LiveKit's ServerError carries `status`).
  ['rate limited upstream', (s) => s.status === 429, (_, dep) => row(C.Transient, dep, S.Low, R.RetryJitter)],
  ['upstream request timeout', (s) => s.status === 408, row(C.Transient, T.Timeout, S.Medium, R.RetryBackoff)],
  ['upstream unavailable', (s) => s.status !== null && s.status >= 500, (_, dep) => row(C.Transient, dep, S.High, R.RetryBackoff)],
  ['upstream refused our credentials', (s) => s.status === 401 || s.status === 403, row(C.Persistent, T.Auth, S.High, R.Reauthenticate, false)],
  ['room not found or exists', (s) => s.status === 404 || s.status === 409, row(C.Persistent, T.Room, S.Low, R.Reject)],
  ['upstream rejected request', (s) => s.status !== null && s.status >= 400, row(C.Persistent, T.Validation, S.Medium, R.Alert)],
];

/** Classified by their cause first: they only say "something below failed". */
const WRAPPERS = new Set(['store unavailable', 'fetch failed']);

const UNKNOWN: Row = row(C.Persistent, T.Internal, S.High, R.Alert, false);

const DEP_TYPE: Record<Dependency, ErrorType> = { redis: T.Redis, postgres: T.Postgres, livekit: T.Livekit };

function match(s: Signals, dep: ErrorType): { name: string; row: Row } | null {
  for (const [name, when, then] of RULES) {
    if (when(s)) return { name, row: typeof then === 'function' ? then(s, dep) : then };
  }
  return null;
}

/** Classify anything that was thrown. Pure. */
export function classify(error: unknown, hint: ClassifyHint = {}, depth = 0): Classification {
  // Without a hint, "the dependency" is simply the network.
  const dep = hint.dependency ? DEP_TYPE[hint.dependency] : T.Network;
  const s = signalsOf(error);
  const found = match(s, dep);
  if ((!found || WRAPPERS.has(found.name)) && s.cause !== undefined && s.cause !== null && depth < 5) {
    const inner = classify(s.cause, hint, depth + 1);
    if (inner.rule !== 'unknown') return { ...inner, rule: `${found?.name ?? 'unknown'} > ${inner.rule}` };
  }
  if (found) return { ...found.row, code: codeOf(s), rule: found.name };
  return { ...UNKNOWN, code: codeOf(s), rule: 'unknown' };
}

/** A failure of the dependency itself (what breakers count), not of the request. */
export function isDependencyFailure(c: Classification): boolean {
  const dependencyType = c.type === T.Network || c.type === T.Timeout || c.type === T.Redis || c.type === T.Postgres || c.type === T.Livekit;
  return dependencyType && c.category !== C.Critical && c.strategy !== R.Reject;
}
