/**
 * Rate limits: how often one person (or one address) may do each thing, over every process.
 *
 * Counted in Redis with rate-limiter-flexible (fixed windows; one key per subject and action, so
 * any Redis or Cluster will do), with an in-memory limiter per process as insurance while Redis
 * is unreachable (the library switches to it by itself; a person then gets the same allowance from
 * each process, for the length of the outage only).
 *
 * Skipping is allowed freely up to its limit; past it, each refusal within the strike window
 * makes the wait longer (base, then double, up to the maximum), so a person who keeps skipping
 * through people waits longer and longer, and one who stops is back to normal after the window.
 *
 * Addresses are never stored: an address is counted under a keyed hash of it (see ipKey).
 */
import { createHmac } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config';
import type { RedisClient } from '../infra/redis';
import { DomainError } from '../state/errors';

/** What is limited, and by whom: `ip` (before any session exists) or `user`. */
export const RATE_ACTIONS = {
  session: 'ip',
  connect: 'ip',
  enqueue: 'user',
  skip: 'user',
  chat: 'user',
  typing: 'user',
  media: 'user',
  signal: 'user',
  block: 'user',
  report: 'user',
  appeal: 'ip',
  stats: 'user',
  login: 'ip',
} as const;
export type RateAction = keyof typeof RATE_ACTIONS;

/**
 * Actions the tightLimits switch leaves at their normal cost: signing in to the console (an
 * operator locked out during an abuse wave could not turn the switch off) and everything inside a
 * call already made (chat, typing, signalling, media and path reports), which would break calls
 * that are going well rather than slow down the abuse the switch is for; and what people do to
 * protect themselves (report, block, appeal), needed most during the abuse the switch is for.
 */
const NOT_TIGHTENED: ReadonlySet<RateAction> = new Set(['login', 'chat', 'typing', 'signal', 'media', 'report', 'block', 'appeal']);

/** At most `points` per `windowMs`. */
export interface RateRule {
  points: number;
  windowMs: number;
}

export interface SkipCooldown {
  /** The first wait after the free skips are used up. */
  baseMs: number;
  maxMs: number;
  /** Refused skips within this window make the wait grow. */
  strikeWindowMs: number;
}

/** The limits as configured. */
export function rateRules(cfg: Config): Record<RateAction, RateRule> {
  return {
    session: cfg.RATE_SESSIONS_PER_IP,
    connect: cfg.RATE_CONNECTS_PER_IP,
    enqueue: cfg.RATE_ENQUEUE,
    skip: cfg.RATE_SKIP,
    chat: cfg.RATE_CHAT,
    typing: cfg.RATE_TYPING,
    media: cfg.RATE_MEDIA,
    signal: cfg.RATE_SIGNAL,
    block: cfg.RATE_BLOCK,
    report: cfg.RATE_REPORT,
    appeal: cfg.RATE_APPEALS_PER_IP,
    stats: cfg.RATE_STATS,
    login: cfg.RATE_LOGINS_PER_IP,
  };
}

export function skipCooldown(cfg: Config): SkipCooldown {
  return { baseMs: cfg.SKIP_COOLDOWN_BASE_MS, maxMs: cfg.SKIP_COOLDOWN_MAX_MS, strikeWindowMs: cfg.SKIP_STRIKE_WINDOW_MS };
}

/** The procedures that consume a limit, by path (the one place that says which call counts as what). */
export const LIMITED_PROCEDURES: Readonly<Record<string, RateAction>> = {
  'session.create': 'session',
  'match.enqueue': 'enqueue',
  'match.skip': 'skip',
  'match.block': 'block',
  'chat.send': 'chat',
  'chat.typing': 'typing',
  'signal.send': 'signal',
  'signal.media': 'media',
  'signal.path': 'media',
  'safety.report': 'report',
  'safety.appeal': 'appeal',
  'stats.online': 'stats',
  'operators.login': 'login',
  // A stolen console session guessing its operator's password: the same allowance as signing in.
  'operators.changePassword': 'login',
};

/** Refused: the person may try again in `retryAfterMs`. */
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  readonly httpCode = 'TOO_MANY_REQUESTS';
  constructor(
    readonly action: RateAction,
    readonly retryAfterMs: number,
  ) {
    super(sentence(action, retryAfterMs), { action, retryAfterMs });
  }
}

const DOING: Record<RateAction, string> = {
  session: 'starting new sessions',
  connect: 'connecting',
  enqueue: 'starting',
  skip: 'skipping',
  chat: 'sending messages',
  typing: 'sending typing signals',
  media: 'turning your camera or microphone on and off',
  signal: 'setting up video',
  block: 'blocking people',
  report: 'sending reports',
  appeal: 'sending appeals',
  stats: 'asking how many people are online',
  login: 'trying to sign in',
};

function sentence(action: RateAction, retryAfterMs: number): string {
  const s = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return `You're ${DOING[action]} too fast. Please wait ${s} second${s === 1 ? '' : 's'}.`;
}

/** Where the counters of a deployment's limits live: `<REDIS_PREFIX>:rl:<action>:<subject>`, each expiring with its window. */
export function rateKeyPrefix(prefix: string): string {
  return `${prefix}:rl:`;
}

/** The key an address is counted under: an HMAC of it with the deployment's secret, never the address. */
export function ipKey(secret: string, ip: string): string {
  return createHmac('sha256', secret).update(ip).digest('base64url').slice(0, 22);
}

export class RateLimits {
  private readonly limiters: Record<RateAction, RateLimiterRedis>;
  private readonly strikes: RateLimiterRedis;

  constructor(
    redis: RedisClient,
    prefix: string,
    private readonly rules: Record<RateAction, RateRule>,
    private readonly skip: SkipCooldown,
    /** Keys an address (ipKey with the session secret). */
    private readonly addressKey: (ip: string) => string,
    /** Told of every refusal (rate_limited_total). */
    private readonly onRefused: (action: RateAction) => void = () => {},
    /** Points one action costs now (the tightLimits kill switch raises it; server/ops/switches.ts). */
    private readonly cost: () => number = () => 1,
  ) {
    const limiter = (name: string, rule: RateRule) => {
      const opts = { points: rule.points, duration: Math.max(1, Math.ceil(rule.windowMs / 1000)) };
      return new RateLimiterRedis({
        ...opts,
        storeClient: redis,
        keyPrefix: `${rateKeyPrefix(prefix)}${name}`,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ ...opts, keyPrefix: `${name}` }),
      });
    };
    this.limiters = Object.fromEntries(Object.entries(rules).map(([action, rule]) => [action, limiter(action, rule)])) as Record<RateAction, RateLimiterRedis>;
    this.strikes = limiter('skip-strikes', { points: 1_000_000, windowMs: skip.strikeWindowMs });
  }

  /** Counts one `action` by `subject` (a user id, or an address for the `ip` actions); refuses past the limit. */
  async consume(action: RateAction, subject: string): Promise<void> {
    const key = RATE_ACTIONS[action] === 'ip' ? this.addressKey(subject) : subject;
    try {
      await this.limiters[action].consume(key, this.costOf(action));
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      this.onRefused(action);
      if (action === 'skip') throw new RateLimitedError(action, await this.skipCooldown(key));
      throw new RateLimitedError(action, e.msBeforeNext);
    }
  }

  /**
   * Points `action` costs now: the switch's cost, but never more than the rule's whole allowance
   * (an action allowed fewer times than the factor stays possible once per window).
   */
  private costOf(action: RateAction): number {
    if (NOT_TIGHTENED.has(action)) return 1;
    return Math.max(1, Math.min(this.cost(), this.rules[action].points));
  }

  /** The limits as configured (for the README's table and the client). */
  get configured(): Readonly<Record<RateAction, RateRule>> {
    return this.rules;
  }

  /**
   * A refused skip: a cooldown, doubled for every refusal in the strike window (pressing on during
   * one makes it longer), and the skip limiter is held shut that long.
   */
  private async skipCooldown(key: string): Promise<number> {
    const strikes = await this.strikes.consume(key).then(
      (r) => r.consumedPoints,
      () => 1,
    );
    const waitS = Math.ceil(Math.min(this.skip.maxMs, this.skip.baseMs * 2 ** Math.min(30, strikes - 1)) / 1000);
    await this.limiters.skip.block(key, waitS).catch(() => undefined);
    return waitS * 1000;
  }
}
