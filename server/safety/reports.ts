/**
 * Reports: a person reports their current or a recent partner (a match they were in, ended less
 * than REPORT_WINDOW_MS ago; nobody else), for one of a few reasons, once per match. The report
 * keeps its evidence as it was at that moment: the match's chat transcript and times from the
 * audit trail and, if the reporter chose to attach one, a frame of the partner's video (kept
 * REPORT_SNAPSHOT_RETENTION_DAYS). Reporting also blocks the partner unless the reporter says not to.
 */
import { and, eq, isNotNull, lt, sql } from 'drizzle-orm';
import type { DbGuard } from '../audit/db-guard';
import type { Db } from '../infra/postgres';
import { matches } from '../match/schema';
import type { Clock } from '../shared/clock';
import { DomainError } from '../state/errors';
import { reports } from './schema';
import { transcriptOf } from './transcript';

export const REPORT_REASONS = ['sexual', 'minor', 'harassment', 'spam', 'violence', 'other'] as const;
export type ReportReason = (typeof REPORT_REASONS)[number];

export interface ReportInput {
  matchId: string;
  reason: ReportReason;
  note?: string;
  /** A frame of the partner's video, base64 (JPEG, PNG or WebP). */
  snapshot?: string;
  /** Block the partner too (default). */
  block?: boolean;
}

export interface ReportOptions {
  windowMs: number;
  snapshotMaxBytes: number;
  snapshotRetentionMs: number;
}

export class ReportNotAllowedError extends DomainError {
  readonly code = 'REPORT_NOT_ALLOWED';
  readonly httpCode = 'FORBIDDEN';
  constructor(windowMs: number) {
    const minutes = Math.max(1, Math.round(windowMs / 60_000));
    super(`You can report someone you are talking to, or talked to in the last ${minutes} minute${minutes === 1 ? '' : 's'}.`);
  }
}

export class AlreadyReportedError extends DomainError {
  readonly code = 'ALREADY_REPORTED';
  readonly httpCode = 'CONFLICT';
  constructor() {
    super('You have already reported this conversation. Thank you: a moderator will look at it.');
  }
}

export class InvalidSnapshotError extends DomainError {
  readonly code = 'INVALID_SNAPSHOT';
  readonly httpCode = 'BAD_REQUEST';
  constructor(maxBytes: number) {
    super(`The picture must be a JPEG, PNG or WebP image of at most ${Math.floor(maxBytes / 1024)} KB.`, { maxBytes });
  }
}

/** The image type of `bytes` by its first bytes, or null. */
function imageType(bytes: Buffer): string | null {
  if (bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return 'image/jpeg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes.subarray(0, 4).toString('latin1') === 'RIFF' && bytes.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

// The drain writes a new match to Postgres within milliseconds; a report made at once may wait this long for it.
const MATCH_WAIT_MS = 2000;
const MATCH_POLL_MS = 100;

export class Reports {
  constructor(
    private readonly db: Db,
    private readonly guard: DbGuard,
    private readonly clock: Clock,
    private readonly opts: ReportOptions,
    /** Blocks `other` for `uid` (MatchService.block). */
    private readonly block: (uid: string, other: string) => Promise<void>,
    /** Told of every report about `uid` (Sanctions.afterReport: the step-up). */
    private readonly onReported: (uid: string) => Promise<unknown>,
    /** Told of every report accepted (reports_total). */
    private readonly onReport: (reason: ReportReason) => void = () => {},
  ) {}

  async report(reporterId: string, input: ReportInput): Promise<{ reportId: string; blocked: boolean }> {
    const snapshot = input.snapshot === undefined ? null : this.decodeSnapshot(input.snapshot);
    const match = await this.matchOf(reporterId, input.matchId);
    const reportedId = match.userA === reporterId ? match.userB : match.userA;
    const now = this.clock.now();
    const transcript = await this.guard(() => transcriptOf(this.db, input.matchId));
    const rows = await this.guard(() =>
      this.db
        .insert(reports)
        .values({
          at: new Date(now),
          reporterId,
          reportedId,
          matchId: input.matchId,
          pool: match.pool,
          reason: input.reason,
          note: input.note ?? null,
          transcript,
          matchStartedAt: match.createdAt,
          matchEndedAt: match.endedAt,
          snapshot: snapshot?.bytes ?? null,
          snapshotType: snapshot?.type ?? null,
          snapshotExpiresAt: snapshot ? new Date(now + this.opts.snapshotRetentionMs) : null,
        })
        .onConflictDoNothing()
        .returning({ id: reports.id }),
    );
    if (!rows[0]) throw new AlreadyReportedError();
    this.onReport(input.reason);
    const blocked = input.block !== false;
    if (blocked) await this.block(reporterId, reportedId);
    await this.onReported(reportedId);
    return { reportId: rows[0].id, blocked };
  }

  /** Forgets the frames whose retention ran out (the report itself stays). Returns how many. */
  async expireSnapshots(): Promise<number> {
    const rows = await this.guard(() =>
      this.db
        .update(reports)
        .set({ snapshot: null, snapshotType: null })
        .where(and(isNotNull(reports.snapshot), lt(reports.snapshotExpiresAt, new Date(this.clock.now()))))
        .returning({ id: reports.id }),
    );
    return rows.length;
  }

  private decodeSnapshot(b64: string): { bytes: Buffer; type: string } {
    const bytes = Buffer.from(b64, 'base64');
    const type = bytes.length <= this.opts.snapshotMaxBytes ? imageType(bytes) : null;
    if (!type) throw new InvalidSnapshotError(this.opts.snapshotMaxBytes);
    return { bytes, type };
  }

  /** The match, if the reporter was in it and it ended less than the window ago (or goes on). */
  private async matchOf(reporterId: string, matchId: string) {
    const deadline = this.clock.now() + MATCH_WAIT_MS;
    for (;;) {
      const [m] = await this.guard(() =>
        this.db
          .select()
          .from(matches)
          .where(and(eq(matches.id, matchId), sql`(${matches.userA} = ${reporterId} or ${matches.userB} = ${reporterId})`))
          .limit(1),
      );
      if (m) {
        if (m.endedAt && this.clock.now() - m.endedAt.getTime() > this.opts.windowMs) throw new ReportNotAllowedError(this.opts.windowMs);
        return m;
      }
      if (this.clock.now() >= deadline) throw new ReportNotAllowedError(this.opts.windowMs);
      await new Promise((r) => setTimeout(r, MATCH_POLL_MS));
    }
  }
}
