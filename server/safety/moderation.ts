/**
 * Moderation: the report queue operators work through, their decisions, appeals against bans,
 * and what a reporter is told about their reports.
 *
 * The queue is ordered by priority, then age: reports that someone looks under 18 first, then
 * sexual content, violence, harassment, spam, the rest. Each report is decided on its own:
 * dismissed, or `ban`, which bans the reported person through Sanctions (recorded, their session
 * ended, their device and address refused).
 */
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { DbGuard } from '../audit/db-guard';
import type { Db } from '../infra/postgres';
import type { Clock } from '../shared/clock';
import { DomainError } from '../state/errors';
import type { Sanctions } from './sanctions';
import { appeals, moderationActions, reports } from './schema';

export const DECISIONS = ['dismiss', 'ban'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Queue order: the lower, the sooner. */
const PRIORITY = sql<number>`case ${reports.reason} when 'minor' then 0 when 'sexual' then 1 when 'violence' then 2 when 'harassment' then 3 when 'spam' then 4 else 5 end`;

export class ModerationNotFoundError extends DomainError {
  readonly code = 'MODERATION_NOT_FOUND';
  readonly httpCode = 'NOT_FOUND';
  constructor(what: 'report' | 'appeal' | 'ban receipt') {
    super(`There is no open ${what} with that id.`, { what });
  }
}

export class AlreadyAppealedError extends DomainError {
  readonly code = 'ALREADY_APPEALED';
  readonly httpCode = 'CONFLICT';
  constructor() {
    super('You have already appealed this ban. A moderator will look at it.');
  }
}

export class Moderation {
  constructor(
    private readonly db: Db,
    private readonly guard: DbGuard,
    private readonly clock: Clock,
    private readonly sanctions: Sanctions,
  ) {}

  /** Open reports, most urgent first, with their evidence (the frame as base64). */
  async queue(limit: number) {
    const rows = await this.guard(() => this.db.select().from(reports).where(eq(reports.status, 'open')).orderBy(asc(PRIORITY), asc(reports.at)).limit(limit));
    return rows.map((r) => ({ ...r, snapshot: r.snapshot ? r.snapshot.toString('base64') : null }));
  }

  /** Decides one open report: dismiss it, or ban the reported person (null duration: for good). */
  async decide(reportId: string, decision: Decision, actor: string, note: string, durationMs: number | null = null) {
    const [report] = await this.guard(() =>
      this.db
        .update(reports)
        .set({ status: decision === 'dismiss' ? 'dismissed' : 'actioned', decidedAt: new Date(this.clock.now()), decidedBy: actor, decision: note })
        .where(and(eq(reports.id, reportId), eq(reports.status, 'open')))
        .returning(),
    );
    if (!report) throw new ModerationNotFoundError('report');
    if (decision === 'ban') return { status: 'actioned' as const, ban: await this.sanctions.ban(report.reportedId, durationMs, note, actor, [reportId]) };
    return { status: 'dismissed' as const, ban: null };
  }

  /** A banned person's appeal (no session: they are banned), by the receipt their ban gave them. */
  async appeal(receiptId: string, text: string): Promise<{ appealId: string }> {
    const [ban] = await this.guard(() =>
      this.db
        .select({ userId: moderationActions.userId })
        .from(moderationActions)
        .where(and(eq(moderationActions.id, receiptId), eq(moderationActions.action, 'ban'))),
    );
    if (!ban) throw new ModerationNotFoundError('ban receipt');
    const rows = await this.guard(() =>
      this.db
        .insert(appeals)
        .values({ at: new Date(this.clock.now()), receiptId, userId: ban.userId, text })
        .onConflictDoNothing()
        .returning({ id: appeals.id }),
    );
    if (!rows[0]) throw new AlreadyAppealedError();
    return { appealId: rows[0].id };
  }

  async openAppeals(limit: number) {
    return this.guard(() => this.db.select().from(appeals).where(eq(appeals.status, 'open')).orderBy(asc(appeals.at)).limit(limit));
  }

  /** Upheld: the ban is lifted. Denied: it runs its course. */
  async decideAppeal(appealId: string, upheld: boolean, actor: string, note: string) {
    const [appeal] = await this.guard(() =>
      this.db
        .update(appeals)
        .set({ status: upheld ? 'upheld' : 'denied', decidedAt: new Date(this.clock.now()), decidedBy: actor, decisionNote: note })
        .where(and(eq(appeals.id, appealId), eq(appeals.status, 'open')))
        .returning(),
    );
    if (!appeal) throw new ModerationNotFoundError('appeal');
    if (upheld) await this.sanctions.lift(appeal.userId, `appeal upheld: ${note}`, actor);
    return { status: appeal.status };
  }

  /** A person's sanction history: every action about them, newest first. */
  async history(userId: string) {
    return this.guard(() => this.db.select().from(moderationActions).where(eq(moderationActions.userId, userId)).orderBy(desc(moderationActions.at)));
  }

  /** What a reporter may know of their reports: when, why, and whether a moderator acted. */
  async reportsBy(reporterId: string) {
    return this.guard(() =>
      this.db
        .select({
          reportId: reports.id,
          at: reports.at,
          matchId: reports.matchId,
          reason: reports.reason,
          status: reports.status,
          decidedAt: reports.decidedAt,
        })
        .from(reports)
        .where(eq(reports.reporterId, reporterId))
        .orderBy(desc(reports.at))
        .limit(50),
    );
  }
}
