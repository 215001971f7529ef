/**
 * Proof-of-work challenges on suspicious behaviour (ALTCHA, self-hosted: altcha-lib makes and
 * checks them here; nothing is sent to anyone else).
 *
 * Three things make a caller suspicious: more new sessions from one address than
 * CHALLENGE_SESSIONS_PER_IP (a soft limit under the hard RATE_SESSIONS_PER_IP), more skips by one
 * person than CHALLENGE_SKIPS, or CHALLENGE_RATE_REFUSALS rate-limit refusals of one person or
 * address. Their next call is refused with CHALLENGE_REQUIRED and a fresh challenge; a browser
 * solves it in a second or two, a script making thousands of sessions pays for each pass. A
 * correct solution clears that person or address for CHALLENGE_PASS_MS. It travels with
 * `session.create` (input `altcha`) or, for a person, in `safety.solveChallenge`.
 *
 * A solution is checked by the library against the challenge's HMAC signature (keys derived from
 * the session secret, so a client can neither forge a challenge nor pick an easy one), its expiry
 * (by our clock, and the library's), and used once: its signature is remembered in Redis until the
 * challenge expires (`<prefix>:pow:used:<signature>`, one key per solution, SET NX). The counters
 * are rate-limiter-flexible counters like the rate limits' (`<prefix>:rl:ch-*`, each expiring with
 * its window); a pass is `<prefix>:pow:pass:<subject>`. Every operation touches one key.
 */
import { createHmac } from 'node:crypto';
import { createChallenge, randomInt, verifySolution, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { RedisClient } from '../infra/redis';
import type { Clock } from '../shared/clock';
import { DomainError } from '../state/errors';
import { rateKeyPrefix, type RateRule } from './rate-limits';

// SHA-256 rounds: the one algorithm every browser's WebCrypto has, and fast to verify here.
const ALGORITHM = 'SHA-256';

export interface ChallengeSettings {
  sessions: RateRule;
  skips: RateRule;
  refusals: RateRule;
  passMs: number;
  ttlMs: number;
  /** Highest counter a challenge may need (the work is uniform between half of it and all of it). */
  work: number;
}

/** What a client sends back: the challenge as it was given, and the counter that solves it. */
export const altchaPayload = z.object({
  challenge: z.object({
    parameters: z.object({
      algorithm: z.literal(ALGORITHM),
      nonce: z.string().max(128),
      salt: z.string().max(128),
      cost: z.number().int().min(1).max(1_000_000),
      keyLength: z.number().int().min(1).max(64),
      keyPrefix: z.string().max(128),
      keySignature: z.string().max(256).optional(),
      expiresAt: z.number().int().positive().optional(),
    }),
    signature: z.string().min(1).max(256),
  }),
  solution: z.object({ counter: z.number().int().min(0).max(4_294_967_295), derivedKey: z.string().max(256), time: z.number().optional() }),
});
export type AltchaPayload = z.infer<typeof altchaPayload>;

/** Refused until the caller solves the challenge in `details.challenge`. */
export class ChallengeRequiredError extends DomainError {
  readonly code = 'CHALLENGE_REQUIRED';
  readonly httpCode = 'FORBIDDEN';
  constructor(challenge: Challenge) {
    super('Please wait a moment while we check your browser, then try again.', { challenge });
  }
}

/** A solution that is wrong, expired, forged or used before. */
export class ChallengeFailedError extends DomainError {
  readonly code = 'CHALLENGE_FAILED';
  readonly httpCode = 'FORBIDDEN';
  constructor(readonly why: 'invalid' | 'expired' | 'used') {
    super("We couldn't check your browser. Please reload the page and try again.", { why });
  }
}

/** Which counter a call feeds: new sessions (by address) or skips (by person); other calls only look at refusals. */
export type Watched = 'sessions' | 'skips' | null;

export class Challenges {
  private readonly counters: Record<'sessions' | 'skips' | 'refusals', RateLimiterRedis>;
  private readonly signing: { hmacSignatureSecret: string; hmacKeySignatureSecret: string };

  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly settings: ChallengeSettings,
    sessionSecret: string,
    private readonly clock: Clock,
  ) {
    const counter = (name: string, rule: RateRule) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${rateKeyPrefix(prefix)}ch-${name}`,
        points: rule.points,
        duration: Math.max(1, Math.ceil(rule.windowMs / 1000)),
      });
    this.counters = {
      sessions: counter('sessions', settings.sessions),
      skips: counter('skips', settings.skips),
      refusals: counter('refusals', settings.refusals),
    };
    // Keys of their own, derived from the session secret: a challenge signature is no session token.
    const derive = (label: string) => createHmac('sha256', sessionSecret).update(`altcha:${label}`).digest('base64url');
    this.signing = { hmacSignatureSecret: derive('challenge'), hmacKeySignatureSecret: derive('key') };
  }

  /** A rate limit refused `subject` (a person, or an address key): one more towards a challenge. */
  async noteRefusal(subject: string): Promise<void> {
    await this.counters.refusals.consume(subject).catch(() => undefined);
  }

  /**
   * Lets a call through, or refuses it with CHALLENGE_REQUIRED when `subject` looks suspicious and
   * holds no pass. `solution`, if the call carried one, is checked first and grants the pass.
   */
  async admit(watched: Watched, subject: string, solution?: AltchaPayload): Promise<void> {
    if (!(await this.suspicious(watched, subject))) return;
    if (await this.redis.exists(this.passKey(subject))) return;
    if (solution) return this.solve(subject, solution);
    throw new ChallengeRequiredError(await this.create());
  }

  /** Checks a solution and clears `subject` for CHALLENGE_PASS_MS. */
  async solve(subject: string, payload: AltchaPayload): Promise<void> {
    const { parameters, signature } = payload.challenge;
    const nowS = this.clock.now() / 1000;
    if (parameters.expiresAt === undefined || parameters.expiresAt <= nowS) throw new ChallengeFailedError('expired');
    // The library throws on parameters it cannot use (a hex field that is not hex): a wrong solution all the same.
    const result = await verifySolution({ challenge: payload.challenge, solution: payload.solution, deriveKey, ...this.signing }).catch(() => null);
    if (!result) throw new ChallengeFailedError('invalid');
    if (result.expired) throw new ChallengeFailedError('expired');
    if (!result.verified) throw new ChallengeFailedError('invalid');
    // Single use, on every process: the first to record the signature wins; it is kept until the challenge expires anyway.
    const ttlMs = Math.max(1, Math.ceil((parameters.expiresAt - nowS) * 1000));
    const fresh = await this.redis.set(`${this.prefix}:pow:used:${signature}`, '1', 'PX', ttlMs, 'NX');
    if (fresh === null) throw new ChallengeFailedError('used');
    await this.redis.set(this.passKey(subject), '1', 'PX', this.settings.passMs);
  }

  /** A new signed challenge, expiring after CHALLENGE_TTL_MS. */
  create(): Promise<Challenge> {
    const work = this.settings.work;
    return createChallenge({
      algorithm: ALGORITHM,
      cost: 1,
      // Deterministic mode: the server knows the answer's key, so checking costs one HMAC.
      counter: randomInt(work, Math.ceil(work / 2)),
      deriveKey,
      expiresAt: Math.floor((this.clock.now() + this.settings.ttlMs) / 1000),
      ...this.signing,
    });
  }

  private async suspicious(watched: Watched, subject: string): Promise<boolean> {
    if (watched && (await this.over(this.counters[watched].consume(subject)))) return true;
    const refused = await this.counters.refusals.get(subject);
    return refused !== null && refused.consumedPoints >= this.settings.refusals.points;
  }

  /** Whether a count went past its rule (rate-limiter-flexible rejects with the counter's state). */
  private async over(counting: Promise<RateLimiterRes>): Promise<boolean> {
    try {
      await counting;
      return false;
    } catch (e) {
      if (e instanceof RateLimiterRes) return true;
      throw e;
    }
  }

  private passKey(subject: string): string {
    return `${this.prefix}:pow:pass:${subject}`;
  }
}
