/**
 * Sanctions, keyed to a person, their device and their address.
 *
 * Step-up from reports: reports about one person from distinct reporters within
 * SANCTION_WINDOW_MS move them first to low trust (matched only with other low-trust people, in
 * pools of their own), then to a timed ban, and a longer one if they were banned before. Operators
 * ban for a duration or for good, and lift bans (admin.moderation.*).
 *
 * A ban takes effect at once: the person's session is ended on every process (their sockets
 * close, their match ends: the partner is re-queued and told their partner left), and new
 * sessions are refused from their device id (a random id the client keeps) and from their
 * address (a keyed hash of it, never the address). The refusal is a ban receipt: the rule, when
 * it ends, and how to appeal.
 *
 * Every action is recorded in Postgres (moderation_actions); what is in force is kept in Redis
 * for the checks (`<root>:ban:u|d|i:<id>` and `<root>:lowtrust:<uid>`, each expiring when the
 * sanction ends; one key per write, so any Cluster slot will do), with who each session is
 * (`<root>:ident:<uid>`: device and address key, for the session's lifetime). If Redis loses
 * them (restarted empty), `restore()` puts what is in force back from Postgres: the cleanup
 * leader calls it every CLEANUP_INTERVAL_MS, and it does the work only when its marker
 * (`<root>:sanctions:restored`) is gone with the rest.
 */
import { and, asc, countDistinct, eq, gt, gte, inArray, isNull, or } from 'drizzle-orm';
import type { DbGuard } from '../audit/db-guard';
import type { RedisClient } from '../infra/redis';
import type { Db } from '../infra/postgres';
import type { Clock } from '../shared/clock';
import { DomainError } from '../state/errors';
import { moderationActions, reports } from './schema';

export interface SanctionRules {
  /** Distinct reporters within `windowMs` that put someone on low trust, and that ban them. */
  lowTrustReports: number;
  banReports: number;
  windowMs: number;
  lowTrustMs: number;
  firstBanMs: number;
  repeatBanMs: number;
}

/** What a banned person is shown (and the API returns with BANNED). */
export interface BanReceipt {
  receiptId: string;
  reason: string;
  /** Epoch ms; null: permanent. */
  endsAt: number | null;
}

export class BannedError extends DomainError {
  readonly code = 'BANNED';
  readonly httpCode = 'FORBIDDEN';
  constructor(receipt: BanReceipt) {
    const until = receipt.endsAt === null ? 'for good' : `until ${new Date(receipt.endsAt).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
    super(`You can't use Rendezvous ${until}: ${receipt.reason}. If you think this is a mistake, you can appeal with receipt ${receipt.receiptId}.`, {
      ...receipt,
    });
  }
}

/** What sanctions_total counts, one per moderation_actions row this class writes. */
export const SANCTION_KINDS = ['ban', 'low_trust', 'warn', 'lift'] as const;
export type SanctionKind = (typeof SANCTION_KINDS)[number];

export class Sanctions {
  constructor(
    private readonly redis: RedisClient,
    private readonly root: string,
    private readonly db: Db,
    private readonly guard: DbGuard,
    private readonly clock: Clock,
    private readonly rules: SanctionRules,
    /** Ends the person's session everywhere: sockets closed, match ended (PresenceService.endSession). */
    private readonly endSession: (uid: string) => Promise<void>,
    /** Adds a notice to the person's event stream (StateStore.notify in their pool). */
    private readonly notify: (uid: string, notice: { code: string; message: string }) => Promise<void>,
    /** Told of every sanction recorded (sanctions_total). */
    private readonly onSanction: (kind: SanctionKind) => void = () => {},
  ) {}

  private key(kind: 'u' | 'd' | 'i', id: string): string {
    return `${this.root}:ban:${kind}:${id}`;
  }

  /** Who a new session is, kept for its lifetime, so a later ban reaches its device and address. */
  async remember(uid: string, deviceId: string | undefined, ipKey: string, ttlMs: number): Promise<void> {
    await this.redis.set(`${this.root}:ident:${uid}`, JSON.stringify({ deviceId: deviceId ?? null, ipKey }), 'PX', ttlMs);
  }

  /** Refuses (BANNED, with the receipt) a new session from a banned device or address. */
  async checkNewSession(deviceId: string | undefined, ipKey: string): Promise<void> {
    const keys = [this.key('i', ipKey), ...(deviceId ? [this.key('d', deviceId)] : [])];
    for (const k of keys) {
      const receipt = await this.redis.get(k);
      if (receipt) throw new BannedError(JSON.parse(receipt) as BanReceipt);
    }
  }

  async isLowTrust(uid: string): Promise<boolean> {
    return (await this.redis.exists(`${this.root}:lowtrust:${uid}`)) === 1;
  }

  async isBanned(uid: string): Promise<boolean> {
    return (await this.redis.exists(this.key('u', uid))) === 1;
  }

  /** Bans `uid` (and their device and address) for `durationMs`, or for good when null. */
  async ban(uid: string, durationMs: number | null, reason: string, actor: string, reportIds: string[] = []): Promise<BanReceipt> {
    const ident = await this.ident(uid);
    const now = this.clock.now();
    const endsAt = durationMs === null ? null : now + durationMs;
    const [row] = await this.guard(() =>
      this.db
        .insert(moderationActions)
        .values({ at: new Date(now), action: 'ban', userId: uid, ...ident, endsAt: endsAt === null ? null : new Date(endsAt), reason, actor, reportIds })
        .returning({ id: moderationActions.id }),
    );
    this.onSanction('ban');
    const receipt: BanReceipt = { receiptId: row!.id, reason, endsAt };
    const value = JSON.stringify(receipt);
    const targets = [this.key('u', uid), ...(ident.deviceId ? [this.key('d', ident.deviceId)] : []), ...(ident.ipKey ? [this.key('i', ident.ipKey)] : [])];
    for (const k of targets) {
      if (durationMs === null) await this.redis.set(k, value);
      else await this.redis.set(k, value, 'PX', durationMs);
    }
    await this.endSession(uid);
    return receipt;
  }

  /** An operator's warning: recorded, and shown to the person at once (a notice on their event stream). */
  async warn(uid: string, message: string, actor: string): Promise<void> {
    const ident = await this.ident(uid);
    await this.guard(() =>
      this.db.insert(moderationActions).values({ at: new Date(this.clock.now()), action: 'warn', userId: uid, ...ident, reason: message, actor }),
    );
    this.onSanction('warn');
    await this.notify(uid, { code: 'MODERATOR_WARNING', message: `A moderator warns you: ${message}` });
  }

  /** Lifts `uid`'s ban (and its device and address keys) and low trust. */
  async lift(uid: string, reason: string, actor: string): Promise<void> {
    const current = await this.redis.get(this.key('u', uid));
    const ident = await this.ident(uid);
    const receipt = current ? (JSON.parse(current) as BanReceipt) : null;
    await this.guard(() =>
      this.db
        .insert(moderationActions)
        .values({ at: new Date(this.clock.now()), action: 'lift', userId: uid, ...ident, reason, actor, targetId: receipt?.receiptId ?? null }),
    );
    this.onSanction('lift');
    const keys = [this.key('u', uid), `${this.root}:lowtrust:${uid}`];
    if (ident.deviceId) keys.push(this.key('d', ident.deviceId));
    if (ident.ipKey) keys.push(this.key('i', ident.ipKey));
    for (const k of keys) await this.redis.del(k);
  }

  /**
   * After a report about `uid`: the distinct reporters within the window decide the step. Someone
   * banned already is left alone (their ban runs); low trust is not renewed while it runs.
   */
  async afterReport(uid: string): Promise<'none' | 'low_trust' | 'ban'> {
    if (await this.isBanned(uid)) return 'none';
    const since = new Date(this.clock.now() - this.rules.windowMs);
    const [counted] = await this.guard(() =>
      this.db
        .select({ reporters: countDistinct(reports.reporterId) })
        .from(reports)
        .where(and(eq(reports.reportedId, uid), gte(reports.at, since))),
    );
    const reporters = Number(counted?.reporters ?? 0);
    if (reporters >= this.rules.banReports) {
      const before = await this.guard(() =>
        this.db
          .select({ id: moderationActions.id })
          .from(moderationActions)
          .where(and(eq(moderationActions.userId, uid), eq(moderationActions.action, 'ban')))
          .limit(1),
      );
      await this.ban(uid, before.length ? this.rules.repeatBanMs : this.rules.firstBanMs, `reported by ${reporters} people`, 'auto');
      return 'ban';
    }
    if (reporters >= this.rules.lowTrustReports && !(await this.isLowTrust(uid))) {
      const ident = await this.ident(uid);
      const now = this.clock.now();
      await this.guard(() =>
        this.db.insert(moderationActions).values({
          at: new Date(now),
          action: 'low_trust',
          userId: uid,
          ...ident,
          endsAt: new Date(now + this.rules.lowTrustMs),
          reason: `reported by ${reporters} people`,
          actor: 'auto',
        }),
      );
      this.onSanction('low_trust');
      await this.redis.set(`${this.root}:lowtrust:${uid}`, '1', 'PX', this.rules.lowTrustMs);
      return 'low_trust';
    }
    return 'none';
  }

  /** Puts the bans and low trust in force back into Redis, if Redis lost them. Returns how many. */
  async restore(): Promise<number> {
    const marker = `${this.root}:sanctions:restored`;
    if ((await this.redis.exists(marker)) === 1) return 0;
    const now = this.clock.now();
    const rows = await this.guard(() =>
      this.db
        .select()
        .from(moderationActions)
        .where(
          or(
            eq(moderationActions.action, 'lift'),
            and(inArray(moderationActions.action, ['ban', 'low_trust']), or(isNull(moderationActions.endsAt), gt(moderationActions.endsAt, new Date(now)))),
          ),
        )
        .orderBy(asc(moderationActions.at)),
    );
    // The latest of each person's ban and low trust, unless lifted after it.
    const inForce = new Map<string, (typeof rows)[number]>();
    for (const r of rows) {
      if (r.action === 'lift') {
        inForce.delete(`ban:${r.userId}`);
        inForce.delete(`low_trust:${r.userId}`);
      } else inForce.set(`${r.action}:${r.userId}`, r);
    }
    for (const r of inForce.values()) {
      if (r.action === 'low_trust') {
        if (r.endsAt) await this.redis.set(`${this.root}:lowtrust:${r.userId}`, '1', 'PX', r.endsAt.getTime() - now);
        continue;
      }
      const value = JSON.stringify({ receiptId: r.id, reason: r.reason, endsAt: r.endsAt?.getTime() ?? null } satisfies BanReceipt);
      const keys = [this.key('u', r.userId), ...(r.deviceId ? [this.key('d', r.deviceId)] : []), ...(r.ipKey ? [this.key('i', r.ipKey)] : [])];
      for (const k of keys) {
        if (r.endsAt) await this.redis.set(k, value, 'PX', r.endsAt.getTime() - now);
        else await this.redis.set(k, value);
      }
    }
    await this.redis.set(marker, String(now));
    return inForce.size;
  }

  private async ident(uid: string): Promise<{ deviceId: string | null; ipKey: string | null }> {
    const raw = await this.redis.get(`${this.root}:ident:${uid}`);
    const parsed = raw ? (JSON.parse(raw) as { deviceId: string | null; ipKey: string | null }) : null;
    return { deviceId: parsed?.deviceId ?? null, ipKey: parsed?.ipKey ?? null };
  }
}
