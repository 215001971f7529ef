/**
 * Reports: one row per reporter and match, with the evidence copied in when it was made (the
 * match's transcript and times, and, if the reporter attached one, a frame of the partner's
 * video). A moderator's decision is written on the row. Private: the analyst role may not read it.
 */
import { customType, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

export const reports = pgTable(
  'reports',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: tz('at').notNull(),
    reporterId: text('reporter_id').notNull(),
    reportedId: text('reported_id').notNull(),
    matchId: text('match_id').notNull(),
    pool: text('pool').notNull(),
    reason: text('reason').notNull(),
    note: text('note'),
    /** The match's chat as it was when reported: [{ at, from, to, text, masked }]. */
    transcript: jsonb('transcript').notNull(),
    matchStartedAt: tz('match_started_at'),
    matchEndedAt: tz('match_ended_at'),
    /** A frame of the reported person's video (JPEG, PNG or WebP), kept until snapshot_expires_at. */
    snapshot: bytea('snapshot'),
    snapshotType: text('snapshot_type'),
    snapshotExpiresAt: tz('snapshot_expires_at'),
    /** open, then dismissed or actioned by a moderator. */
    status: text('status').notNull().default('open'),
    decidedAt: tz('decided_at'),
    decidedBy: text('decided_by'),
    decision: text('decision'),
  },
  (t) => [
    uniqueIndex('reports_reporter_match').on(t.reporterId, t.matchId),
    index('reports_reported_at').on(t.reportedId, t.at),
    index('reports_status_at').on(t.status, t.at),
  ],
);
export type Report = typeof reports.$inferSelect;

/**
 * Every moderation action, automatic or by an operator: warn, low_trust, ban (ends_at null:
 * permanent) and lift (target_id: the action it lifts). The record; Redis holds what is in
 * force now for the enforcement (safety/sanctions.ts).
 */
export const moderationActions = pgTable(
  'moderation_actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: tz('at').notNull(),
    action: text('action').notNull(),
    userId: text('user_id').notNull(),
    deviceId: text('device_id'),
    /** A keyed hash of the address (never the address). */
    ipKey: text('ip_key'),
    endsAt: tz('ends_at'),
    reason: text('reason').notNull(),
    /** `auto` (step-up from reports) or `admin:<name>`. */
    actor: text('actor').notNull(),
    reportIds: jsonb('report_ids'),
    targetId: uuid('target_id'),
  },
  (t) => [index('moderation_actions_user_at').on(t.userId, t.at), index('moderation_actions_action_at').on(t.action, t.at)],
);

/** A banned person's appeal against a ban (its receipt is the ban's moderation action), once per ban. */
export const appeals = pgTable(
  'appeals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: tz('at').notNull(),
    receiptId: uuid('receipt_id').notNull(),
    userId: text('user_id').notNull(),
    text: text('text').notNull(),
    /** open, then upheld (the ban is lifted) or denied. */
    status: text('status').notNull().default('open'),
    decidedAt: tz('decided_at'),
    decidedBy: text('decided_by'),
    decisionNote: text('decision_note'),
  },
  (t) => [uniqueIndex('appeals_receipt').on(t.receiptId), index('appeals_status_at').on(t.status, t.at)],
);
