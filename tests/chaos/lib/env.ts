import { loadConfig } from '../../../server/config';
import { UNLIMITED_RATES } from '../../support/unlimited-rates';

/**
 * The server settings every chaos scenario runs with.
 *
 * `npm run chaos` runs the product as shipped (CHAOS_SETTINGS=production, bench/chaos.ts): the
 * production defaults, except what belongs to the load and the accounting (every simulated user
 * connects from 127.0.0.1; every event stays in Redis for the lost/duplicated check). The test
 * suite's shortened scenarios (tests/chaos/chaos.test.ts: outages of 1.5-3 s) also shrink the
 * timers a recovery waits on, so that each fault bites and recovers within its short outage.
 */
const PRODUCTION = process.env.CHAOS_SETTINGS === 'production';

const LOAD_AND_ACCOUNTING: Record<string, string> = {
  LOG_LEVEL: 'silent',
  // The whole history stays in Redis for the accounting. (RECENT_PARTNERS_MAX stays at its default
  // 3: with 0, a skipped partner can be re-paired with the skipper inside the leave script, which
  // then pairs the skipper a second time; see docs/benchmarks.md, Chaos.)
  EVENT_HISTORY_MAX: '10000',
  EVENT_HISTORY_MAX_BYTES: String(16 * 1024 ** 2),
  // Every simulated user connects from 127.0.0.1.
  WS_MAX_PER_IP: '100000',
  HTTP_RATE_PER_IP: '1000000',
  WS_MESSAGES_PER_SECOND: '100000',
  ...UNLIMITED_RATES,
};

const SHORTENED: Record<string, string> = {
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
  // Breakers keep their production reset timeouts: an open breaker ends its open period as soon as
  // its dependency answers a direct check (RESILIENCE_PROBE_INTERVAL_MS).
  RESILIENCE_REDIS_RETRY_MAX_MS: '200',
  LIVEKIT_CALL_TIMEOUT_MS: '300',
  LIVEKIT_RETRY_ATTEMPTS: '2',
  LIVEKIT_RETRY_BASE_MS: '50',
  LIVEKIT_RETRY_MAX_MS: '200',
  LIVEKIT_JANITOR_INTERVAL_MS: '200',
  LIVEKIT_DELETE_RETRY_BASE_MS: '200',
  LIVEKIT_DELETE_RETRY_MAX_MS: '1000',
  LIVEKIT_RECONCILE_INTERVAL_MS: '1000',
};

export const CHAOS_ENV: Record<string, string> = PRODUCTION ? LOAD_AND_ACCOUNTING : { ...LOAD_AND_ACCOUNTING, ...SHORTENED };
/** Which settings this run uses, for the table. */
export const CHAOS_SETTINGS = PRODUCTION ? 'production' : 'shortened';
/** The numbers those settings come to (defaults filled in). */
export const CHAOS_CONFIG = loadConfig(CHAOS_ENV);
/** Scenario tuning that only the shortened runs get (see scenarios/scale.ts). */
export const SHORTENED_RUN = !PRODUCTION;

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
  const timeout = CHAOS_CONFIG.REDIS_COMMAND_TIMEOUT_MS;
  const retries = CHAOS_CONFIG.RESILIENCE_REDIS_RETRY_ATTEMPTS;
  return timeout + (retries + 1) * timeout + retries * CHAOS_CONFIG.RESILIENCE_REDIS_RETRY_MAX_MS + 1000;
}
