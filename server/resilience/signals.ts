/**
 * Signals: the facts classification looks at, read once from any thrown value. Errors come from
 * ioredis, node-postgres, undici (fetch), the LiveKit SDK, cockatiel and our own code, and each
 * puts its facts somewhere else (`code` is a SQLSTATE on a pg error, an errno on a socket error,
 * a word on ours and a Twirp code on LiveKit's). Pure.
 */

/** Socket, DNS and fetch error codes that node and undici put on `code`. */
const SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
  'ENOSPC',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

export interface Signals {
  name: string;
  message: string;
  /** `code` when it is a word of ours (INVALID_TOKEN, RATE_LIMITED, ...) or a tRPC code. */
  code: string | null;
  /** A node/undici system error code. */
  errno: string | null;
  /** A Postgres SQLSTATE (five characters, at least one digit: 08006, 57P01, 23505, XX001). */
  sqlstate: string | null;
  /** An HTTP status (LiveKit's ServerError, fetch responses). */
  status: number | null;
  /** cockatiel's marker properties. */
  cockatiel: 'broken_circuit' | 'task_cancelled' | 'bulkhead_rejected' | null;
  /** InvalidTokenError's reason, and the like. */
  reason: string | null;
  cause: unknown;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function signalsOf(error: unknown): Signals {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const rawCode = str(e.code);
  const errno = rawCode && SYSTEM_CODES.has(rawCode) ? rawCode : null;
  const sqlstate = !errno && rawCode && /^[0-9A-Z]{5}$/.test(rawCode) && /\d/.test(rawCode) ? rawCode : null;
  const statusValue = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : null;
  return {
    name: str(e.name) ?? (error instanceof Error ? error.constructor.name : typeof error),
    message: str(e.message) ?? (typeof error === 'string' ? error : ''),
    code: errno || sqlstate ? null : rawCode,
    errno,
    sqlstate,
    status: statusValue !== null && statusValue >= 100 && statusValue <= 599 ? statusValue : null,
    cockatiel:
      e.isBrokenCircuitError === true || e.isHydratingCircuitError === true
        ? 'broken_circuit'
        : e.isTaskCancelledError === true
          ? 'task_cancelled'
          : e.isBulkheadRejectedError === true
            ? 'bulkhead_rejected'
            : null,
    reason: str(e.reason),
    cause: e.cause,
  };
}

/** The code an audit row and a log line carry: the most specific fact there is (a Redis reply's first word: OOM, READONLY). */
export function codeOf(s: Signals): string {
  const replyWord = s.name === 'ReplyError' ? /^[A-Z]+\b/.exec(s.message)?.[0] : undefined;
  return s.code ?? s.sqlstate ?? s.errno ?? (s.status !== null ? `HTTP_${s.status}` : (replyWord ?? s.name));
}
