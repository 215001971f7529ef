/**
 * The server settings every chaos scenario runs with: production defaults except the timers a
 * recovery waits on, shrunk so a recovery fits in seconds (the scenarios measure how long recovery
 * takes *with these settings*; docs/benchmarks.md lists them beside the figures).
 */
export const CHAOS_ENV: Record<string, string> = {
  LOG_LEVEL: 'silent',
  // A Redis command fails fast instead of waiting 2 s: what "timeouts, not hangs" is measured against.
  REDIS_COMMAND_TIMEOUT_MS: '500',
  REDIS_CONNECT_TIMEOUT_MS: '500',
  REDIS_RECONNECT_MAX_MS: '200',
  // Presence: a dropped socket is noticed within 2 s and its match ends 1.5 s later.
  HEARTBEAT_INTERVAL_MS: '500',
  HEARTBEAT_TIMEOUT_MS: '2000',
  RECONNECT_GRACE_MS: '1500',
  PRESENCE_SWEEP_INTERVAL_MS: '100',
  CONNECTING_TIMEOUT_MS: '2500',
  MATCH_SWEEP_INTERVAL_MS: '100',
  CLEANUP_INTERVAL_MS: '500',
  CLEANUP_LOCK_TTL_MS: '2000',
  CHECKPOINT_INTERVAL_MS: '500',
  OUTBOX_BLOCK_MS: '50',
  // A killed server's pending outbox entries are taken over after 1 s instead of 30 s.
  OUTBOX_CLAIM_IDLE_MS: '1000',
  AUDIT_APPEND_TIMEOUT_MS: '300',
  AUDIT_SPOOL_RETRY_MS: '200',
  // The whole history stays in Redis for the accounting. (RECENT_PARTNERS_MAX stays at its default
  // 3: with 0, a skipped partner can be re-paired with the skipper inside the leave script, which
  // then pairs the skipper a second time; see docs/benchmarks.md, Chaos.)
  EVENT_HISTORY_MAX: '10000',
  EVENT_HISTORY_MAX_BYTES: String(16 * 1024 ** 2),
  // Every simulated user connects from 127.0.0.1.
  WS_MAX_PER_IP: '100000',
  HTTP_RATE_PER_IP: '1000000',
  WS_MESSAGES_PER_SECOND: '100000',
  // Breakers: the production thresholds, shorter open periods (a 5 s Redis reset or a 10 s LiveKit
  // half-open delay would by itself use up the 5 s recovery budget; see docs/benchmarks.md).
  RESILIENCE_REDIS_RETRY_MAX_MS: '200',
  RESILIENCE_REDIS_BREAKER_RESET_MS: '1000',
  RESILIENCE_POSTGRES_BREAKER_RESET_MS: '1000',
  LIVEKIT_CALL_TIMEOUT_MS: '300',
  LIVEKIT_RETRY_ATTEMPTS: '2',
  LIVEKIT_RETRY_BASE_MS: '50',
  LIVEKIT_RETRY_MAX_MS: '200',
  LIVEKIT_BREAKER_HALF_OPEN_MS: '1000',
  LIVEKIT_JANITOR_INTERVAL_MS: '200',
  LIVEKIT_DELETE_RETRY_BASE_MS: '200',
  LIVEKIT_DELETE_RETRY_MAX_MS: '1000',
  LIVEKIT_RECONCILE_INTERVAL_MS: '1000',
};

/** A user is "stuck" if not resting this long after the dependency returned (the bound). */
export const RESTING_BOUND_MS = 5000;
/** How long a scenario keeps watching for a recovery that is late, so the table shows the real time. */
export const OBSERVE_CAP_MS = 30_000;
/** A call that has not answered after this long is a hang (the bound for "timeouts, not hangs"). */
export const HANG_MS = 10_000;

/**
 * The longest a call may take while Redis does not answer, by the settings above: the state read
 * before it (one command timeout), the script's attempts under the Redis policy (1 + 2 retries,
 * each a command timeout) and the retry delays (at most RESILIENCE_REDIS_RETRY_MAX_MS each), plus
 * a second of slack for a loaded machine. Beyond this a call is not timing out, it is hanging.
 */
export function redisCallBoundMs(): number {
  const timeout = Number(CHAOS_ENV.REDIS_COMMAND_TIMEOUT_MS);
  const retries = 2; // RESILIENCE_REDIS_RETRY_ATTEMPTS default
  return timeout + (retries + 1) * timeout + retries * Number(CHAOS_ENV.RESILIENCE_REDIS_RETRY_MAX_MS) + 1000;
}
