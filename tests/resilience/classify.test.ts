import { BrokenCircuitError, BulkheadRejectedError, IsolatedCircuitError, TaskCancelledError } from 'cockatiel';
import { ReplyError } from 'ioredis';
import MaxRetriesPerRequestError from 'ioredis/built/errors/MaxRetriesPerRequestError';
import { ServerError } from 'livekit-server-sdk';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classify, isDependencyFailure } from '../../server/resilience/classify';
import type { Classification, Dependency } from '../../server/resilience/model';
import { InvalidTokenError } from '../../server/session/token';
import { ConfigError } from '../../server/config';
import { HeldAcrossDataLossError, RedisNotReadyError } from '../../server/checkpoint/epoch';
import { InvalidTransitionError, NotInMatchError, StoreUnavailableError, VersionConflictError, WrongStateError } from '../../server/state/errors';

const sys = (code: string, message = `connect ${code} 127.0.0.1:6379`) => Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' });
const sql = (code: string, message = 'boom') => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code, severity: 'ERROR' });
const reply = (text: string) => new (ReplyError as new (m: string) => Error)(text);
const coded = (code: string) => Object.assign(new Error(code), { code });

type Expect = Pick<Classification, 'category' | 'type' | 'severity' | 'strategy' | 'retryable'>;
const t = (category: Expect['category'], type: Expect['type'], severity: Expect['severity'], strategy: Expect['strategy'], retryable: boolean): Expect => ({
  category,
  type,
  severity,
  strategy,
  retryable,
});

const TABLE: Array<[string, unknown, Expect, Dependency?]> = [
  // cockatiel
  ['an open breaker fails fast and is not retried', new BrokenCircuitError(), t('transient', 'redis', 'medium', 'retry_backoff', false), 'redis'],
  ['a breaker held open by hand counts as open', new IsolatedCircuitError(), t('transient', 'livekit', 'medium', 'retry_backoff', false), 'livekit'],
  [
    'a policy timeout is a transient timeout',
    new TaskCancelledError('Operation timed out after 100ms'),
    t('transient', 'timeout', 'medium', 'retry_backoff', true),
  ],
  [
    'a full bulkhead backs off with jitter, never at once',
    new BulkheadRejectedError(1, 0),
    t('transient', 'postgres', 'medium', 'retry_jitter', false),
    'postgres',
  ],
  // ioredis
  ['ioredis giving up on a request means reconnect', new MaxRetriesPerRequestError(1), t('transient', 'redis', 'high', 'reconnect', true)],
  ['a script held until a reconnected Redis is checked means reconnect', new RedisNotReadyError(500), t('transient', 'redis', 'high', 'reconnect', true)],
  [
    'a script held while Redis lost its data is refused, not retried (the caller reads again first)',
    new HeldAcrossDataLossError(),
    t('transient', 'redis', 'medium', 'reject', false),
  ],
  ['a closed ioredis connection means reconnect', new Error('Connection is closed.'), t('transient', 'redis', 'high', 'reconnect', true)],
  [
    'an offline ioredis stream means reconnect',
    new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    t('transient', 'redis', 'high', 'reconnect', true),
  ],
  ['an ioredis command timeout is a transient timeout', new Error('Command timed out'), t('transient', 'timeout', 'medium', 'retry_backoff', true)],
  ['Redis loading its dataset is retried', reply('LOADING Redis is loading the dataset in memory'), t('transient', 'redis', 'medium', 'retry_backoff', true)],
  [
    'a Redis failover (READONLY) reconnects',
    reply("READONLY You can't write against a read only replica."),
    t('transient', 'redis', 'high', 'reconnect', true),
  ],
  [
    'Redis out of memory opens the breaker and alerts',
    reply("OOM command not allowed when used memory > 'maxmemory'."),
    t('persistent', 'redis', 'high', 'break_and_alert', false),
  ],
  [
    'Redis unable to persist opens the breaker and alerts',
    reply('MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.'),
    t('persistent', 'redis', 'high', 'break_and_alert', false),
  ],
  ['Redis asking for auth re-authenticates', reply('NOAUTH Authentication required.'), t('persistent', 'auth', 'high', 'reauthenticate', false)],
  [
    'a wrong Redis key type is data inconsistency',
    reply('WRONGTYPE Operation against a key holding the wrong kind of value'),
    t('critical', 'redis', 'critical', 'pause_pool', false),
  ],
  [
    'a failing Lua script is our bug and alerts',
    reply('ERR Error running script (call to f_abc): @user_script:12: attempt to index a nil value'),
    t('persistent', 'internal', 'high', 'alert', false),
  ],
  // node sockets
  ['connection refused reconnects', sys('ECONNREFUSED'), t('transient', 'network', 'high', 'reconnect', true)],
  ['connection refused to postgres is a postgres failure', sys('ECONNREFUSED'), t('transient', 'postgres', 'high', 'reconnect', true), 'postgres'],
  ['connection reset reconnects', sys('ECONNRESET', 'read ECONNRESET'), t('transient', 'network', 'high', 'reconnect', true)],
  ['a broken pipe reconnects', sys('EPIPE', 'write EPIPE'), t('transient', 'network', 'high', 'reconnect', true)],
  ['a socket timeout is a transient timeout', sys('ETIMEDOUT'), t('transient', 'timeout', 'medium', 'retry_backoff', true)],
  ['DNS trouble reconnects', sys('EAI_AGAIN', 'getaddrinfo EAI_AGAIN redis'), t('transient', 'network', 'high', 'reconnect', true)],
  ['running out of file descriptors alerts', sys('EMFILE', 'accept EMFILE'), t('persistent', 'internal', 'critical', 'break_and_alert', false)],
  // postgres by SQLSTATE
  ['a postgres connection failure (08006) reconnects', sql('08006'), t('transient', 'postgres', 'high', 'reconnect', true)],
  [
    'a postgres admin shutdown (57P01) reconnects',
    sql('57P01', 'terminating connection due to administrator command'),
    t('transient', 'postgres', 'high', 'reconnect', true),
  ],
  ['a postgres starting up (57P03) reconnects', sql('57P03', 'the database system is starting up'), t('transient', 'postgres', 'high', 'reconnect', true)],
  [
    'a statement timeout (57014) is retried',
    sql('57014', 'canceling statement due to statement timeout'),
    t('transient', 'timeout', 'medium', 'retry_backoff', true),
  ],
  ['a serialization failure (40001) is retried', sql('40001', 'could not serialize access'), t('transient', 'postgres', 'low', 'retry_backoff', true)],
  ['a deadlock (40P01) is retried', sql('40P01', 'deadlock detected'), t('transient', 'postgres', 'low', 'retry_backoff', true)],
  [
    'a unique violation (23505) is the request, not the database',
    sql('23505', 'duplicate key value violates unique constraint'),
    t('persistent', 'validation', 'low', 'reject', false),
  ],
  ['a foreign key violation (23503) is rejected', sql('23503'), t('persistent', 'validation', 'low', 'reject', false)],
  [
    'too many connections (53300) opens the breaker and alerts',
    sql('53300', 'sorry, too many clients already'),
    t('persistent', 'postgres', 'high', 'break_and_alert', false),
  ],
  [
    'a missing table (42P01) alerts: schema and code disagree',
    sql('42P01', 'relation "x" does not exist'),
    t('persistent', 'postgres', 'high', 'alert', false),
  ],
  ['corrupted data (XX001) pauses the pool', sql('XX001', 'invalid page in block 1'), t('critical', 'postgres', 'critical', 'pause_pool', false)],
  ['a wrong postgres password (28P01) alerts', sql('28P01', 'password authentication failed'), t('persistent', 'auth', 'high', 'break_and_alert', false)],
  ['node-postgres losing its connection reconnects', new Error('Connection terminated unexpectedly'), t('transient', 'postgres', 'high', 'reconnect', true)],
  [
    'a pg pool that cannot connect in time is a timeout',
    new Error('timeout exceeded when trying to connect'),
    t('transient', 'timeout', 'medium', 'retry_backoff', true),
  ],
  // LiveKit SDK and fetch
  [
    'fetch failing on a refused connection reconnects (LiveKit)',
    new TypeError('fetch failed', { cause: sys('ECONNREFUSED') }),
    t('transient', 'livekit', 'high', 'reconnect', true),
    'livekit',
  ],
  [
    'fetch failing for an unknown reason is still a network failure',
    new TypeError('fetch failed'),
    t('transient', 'livekit', 'high', 'reconnect', true),
    'livekit',
  ],
  [
    'a fetch timeout (AbortSignal.timeout) is a timeout',
    new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    t('transient', 'timeout', 'medium', 'retry_backoff', true),
  ],
  [
    'LiveKit unavailable (503) is retried',
    new ServerError('Service Unavailable', 'unavailable', 503, 'unavailable'),
    t('transient', 'livekit', 'high', 'retry_backoff', true),
    'livekit',
  ],
  [
    'LiveKit rate limiting (429) backs off with jitter',
    new ServerError('Too Many Requests', 'slow down', 429, 'resource_exhausted'),
    t('transient', 'livekit', 'low', 'retry_jitter', true),
    'livekit',
  ],
  [
    'LiveKit refusing our credentials (401) re-authenticates',
    new ServerError('Unauthorized', 'invalid token', 401, 'unauthenticated'),
    t('persistent', 'auth', 'high', 'reauthenticate', false),
    'livekit',
  ],
  [
    'a LiveKit room that is gone (404) is rejected',
    new ServerError('Not Found', 'room not found', 404, 'not_found'),
    t('persistent', 'room', 'low', 'reject', false),
    'livekit',
  ],
  // domain errors
  ['a version conflict is transient', new VersionConflictError(3, 4), t('transient', 'matching', 'low', 'retry_backoff', true)],
  ['an invalid transition is the caller’s', new InvalidTransitionError('IDLE', 'IN_CALL'), t('persistent', 'validation', 'low', 'reject', false)],
  ['the wrong state is the caller’s', new WrongStateError('IDLE', ['WAITING'], 'cancel'), t('persistent', 'validation', 'low', 'reject', false)],
  ['not being in a match is the caller’s', new NotInMatchError(), t('persistent', 'validation', 'low', 'reject', false)],
  ['an inconsistent pair is rolled back', coded('PAIR_INCONSISTENT'), t('persistent', 'matching', 'medium', 'rollback', false)],
  ['an unavailable store with an unknown cause reconnects', new StoreUnavailableError(new Error('???')), t('transient', 'redis', 'high', 'reconnect', true)],
  ['an expired session re-authenticates', new InvalidTokenError('expired'), t('persistent', 'auth', 'low', 'reauthenticate', false)],
  ['a forged session token is a security violation', new InvalidTokenError('forged'), t('critical', 'security', 'critical', 'end_session', false)],
  ['a rate-limited client backs off with jitter', coded('RATE_LIMITED'), t('transient', 'security', 'low', 'retry_jitter', false)],
  ['a connect timeout is a room failure', coded('CONNECT_TIMEOUT'), t('transient', 'room', 'low', 'retry_backoff', false)],
  ['invalid input (zod) is rejected', z.object({ a: z.string() }).safeParse({}).error, t('persistent', 'validation', 'low', 'reject', false)],
  // our critical errors
  ['data inconsistency pauses the pool', coded('DATA_INCONSISTENT'), t('critical', 'matching', 'critical', 'pause_pool', false)],
  ['a security violation ends the session', coded('SECURITY_VIOLATION'), t('critical', 'security', 'critical', 'end_session', false)],
  ['a system failure shuts down gracefully', coded('SYSTEM_FAILURE'), t('critical', 'internal', 'critical', 'shutdown', false)],
  ['an invalid configuration shuts down', new ConfigError('bad'), t('critical', 'internal', 'critical', 'shutdown', false)],
  // unknown
  ['anything unrecognized alerts and is not retried', new RangeError('Invalid array length'), t('persistent', 'internal', 'high', 'alert', false)],
  ['a thrown string is unrecognized too', 'oops', t('persistent', 'internal', 'high', 'alert', false)],
];

describe('error classification table', () => {
  it.each(TABLE)('%s', (name, error, expected, dependency) => {
    const c = classify(error, { dependency });
    expect({ category: c.category, type: c.type, severity: c.severity, strategy: c.strategy, retryable: c.retryable }).toEqual(expected);
    expect(c.rule === 'unknown').toBe(name.includes('unrecognized'));
  });

  it('an unavailable store is classified by its cause when the cause is known', () => {
    const c = classify(new StoreUnavailableError(reply("OOM command not allowed when used memory > 'maxmemory'.")));
    expect(c).toMatchObject({ category: 'persistent', type: 'redis', strategy: 'break_and_alert', rule: 'store unavailable > redis out of memory' });
  });

  it('carries a stable code: our code, the SQLSTATE, the errno or the error name', () => {
    expect(classify(new NotInMatchError()).code).toBe('NOT_IN_MATCH');
    expect(classify(sql('40P01')).code).toBe('40P01');
    expect(classify(sys('ECONNRESET')).code).toBe('ECONNRESET');
    expect(classify(new BrokenCircuitError()).code).toBe('Error');
    expect(classify(new RangeError('x')).code).toBe('RangeError');
    expect(classify(reply('READONLY You cannot write against a read only replica.')).code).toBe('READONLY');
  });

  it('five-letter errno codes are never mistaken for SQLSTATEs', () => {
    expect(classify(sys('EPIPE')).rule).toBe('connection refused or dropped');
  });

  it('dependency failures are what breakers count; the caller’s own mistakes are not', () => {
    expect(isDependencyFailure(classify(sys('ECONNREFUSED')))).toBe(true);
    expect(isDependencyFailure(classify(new TaskCancelledError()))).toBe(true);
    expect(isDependencyFailure(classify(reply('OOM command not allowed')))).toBe(true);
    expect(isDependencyFailure(classify(new NotInMatchError()))).toBe(false);
    expect(isDependencyFailure(classify(new VersionConflictError(1, 2)))).toBe(false);
    expect(isDependencyFailure(classify(sql('23505')))).toBe(false);
    expect(isDependencyFailure(classify(reply('WRONGTYPE Operation against a key')))).toBe(false);
  });

  it('classification is pure: the same error gives the same answer', () => {
    const e = sys('ECONNRESET');
    expect(classify(e)).toEqual(classify(e));
  });
});
