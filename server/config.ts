/**
 * Configuration: every setting the server reads, in one zod schema, read once at start.
 * A bad value stops start-up with the variable's name. Tests build a Config with
 * `loadConfig({...})` and shrink the durations instead of sleeping.
 */
import { z } from 'zod';

const ms = (def: number) => z.coerce.number().int().min(1).max(86_400_000).default(def);
const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where embedded data (PGlite, spawned redis, dev secret) lives. */
  DATA_DIR: z.string().default('./.data'),
  /** Unset: embedded PGlite under DATA_DIR/pg. */
  DATABASE_URL: z.string().url().optional(),
  /** Unset: redis://127.0.0.1:6379 if it answers, else a spawned redis-server. */
  REDIS_URL: z.string().url().optional(),
  /** Root of every Redis key, so several deployments (or tests) can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('rv'),
  /** HMAC secret for session tokens; generated once into DATA_DIR outside production. */
  SESSION_SECRET: z.string().min(32).optional(),
  SESSION_TTL_MS: ms(24 * 3600_000),
  ADMIN_TOKEN: z.string().min(16).optional(),
  /** Comma-separated list of allowed WebSocket Origins; empty means same-origin only. */
  ALLOWED_ORIGINS: csv,
  WS_MAX_PAYLOAD: z.coerce.number().int().min(1024).max(1_048_576).default(65_536),

  /** Redis client: how long one command may take, and how fast to retry a reconnect. */
  REDIS_COMMAND_TIMEOUT_MS: ms(2000),
  REDIS_CONNECT_TIMEOUT_MS: ms(2000),
  REDIS_RECONNECT_MAX_MS: ms(2000),

  /** Idle user hashes expire after this long without activity. */
  IDLE_TTL_MS: ms(24 * 3600_000),
  /** Idempotency records for mutations (op ids) are kept this long. */
  IDEMPOTENCY_TTL_MS: ms(10 * 60_000),
  /** Per-user event history kept for resume: bounded by length and age. */
  EVENT_HISTORY_MAX: z.coerce.number().int().min(10).max(10_000).default(500),
  EVENT_HISTORY_TTL_MS: ms(3600_000),

  /** Matching rules. */
  RECENT_PARTNERS_MAX: z.coerce.number().int().min(0).max(50).default(3),
  RECENT_PARTNERS_TTL_MS: ms(10 * 60_000),
  INTEREST_RELAX_MS: ms(5000),
  MATCH_SCAN_LIMIT: z.coerce.number().int().min(1).max(1000).default(100),
  CONNECTING_TIMEOUT_MS: ms(15_000),
  MATCH_SWEEP_INTERVAL_MS: ms(1000),

  /** Audit drain. */
  OUTBOX_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  OUTBOX_BLOCK_MS: ms(200),
  OUTBOX_CLAIM_IDLE_MS: ms(30_000),
  OUTBOX_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),

  /** Presence. */
  HEARTBEAT_INTERVAL_MS: ms(3000),
  HEARTBEAT_TIMEOUT_MS: ms(9000),
  /** A user whose socket dropped in a match (or in the queue) may reconnect within this long. */
  RECONNECT_GRACE_MS: ms(10_000),
  PRESENCE_SWEEP_INTERVAL_MS: ms(1000),
  /** Maintenance sweep (one leader across processes). */
  CLEANUP_INTERVAL_MS: ms(30_000),
  CLEANUP_LOCK_TTL_MS: ms(60_000),
  CLEANUP_BATCH: z.coerce.number().int().min(10).max(10_000).default(500),
  SHUTDOWN_TIMEOUT_MS: ms(30_000),
  /** Checkpoints of active users and matches to Postgres (leader only), and how far back a rebuild looks. */
  CHECKPOINT_INTERVAL_MS: ms(60_000),
  CHECKPOINT_LOOKBACK_MS: ms(3600_000),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parse an environment-like record; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return parsed.data;
}
