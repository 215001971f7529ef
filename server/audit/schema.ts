/**
 * Audit tables. The event tables (state_transitions, errors, recoveries, breaker_events,
 * checkpoints, webhook_events) are append-only: one row per event, keyed by the event's unique id
 * plus its time `at`. `at` is in every primary key because those tables are partitioned by month
 * on `at` (migration 0002_partition_event_tables; drizzle sees them as plain tables, Postgres
 * routes rows to monthly partitions). dead_letters is a work queue, not an event table.
 * Analyst views over these tables live in migration 0003_analytics_views; see docs/analytics.md.
 */
import { sql, type SQL } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, type PgColumn } from 'drizzle-orm/pg-core';

const at = () => timestamp('at', { withTimezone: true, mode: 'date' }).notNull();

/**
 * The hour/day bucket the analyst views group by: UTC-truncated, back as timestamptz. Written
 * with AT TIME ZONE (immutable) rather than date_trunc(..., 'UTC') (only stable) so it can be
 * indexed; a view filter such as `WHERE hour >= now() - interval '1 day'` is pushed below the
 * GROUP BY and becomes a range scan of these expression indexes. The views in migration
 * 0003_analytics_views spell the same expression.
 */
export function utcBucket(unit: 'hour' | 'day', column: PgColumn): SQL {
  return sql`(date_trunc(${sql.raw(`'${unit}'`)}, (${column} AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC')`;
}

export const stateTransitions = pgTable(
  'state_transitions',
  {
    eventId: text('event_id').notNull(),
    at: at(),
    userId: text('user_id').notNull(),
    pool: text('pool').notNull(),
    fromState: text('from_state').notNull(),
    toState: text('to_state').notNull(),
    reason: text('reason'),
    matchId: text('match_id'),
    actor: text('actor'),
    version: integer('version').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.at] }),
    // admin.audit.user: a user's history in order.
    index('state_transitions_user_at').on(t.userId, t.at),
    // admin.audit.match: every transition of one match, in order.
    index('state_transitions_match').on(t.matchId, t.at),
    // Transitions into a state over a time range (enqueues today, ...).
    index('state_transitions_to_at').on(t.toState, t.at),
    // disconnect_reasons: only DISCONNECTING rows, by UTC day (partial: ~1 row in 7).
    index('state_transitions_disconnect_day')
      .on(utcBucket('day', t.at))
      .where(sql`${t.toState} = 'DISCONNECTING'`),
  ],
);
export type StateTransition = typeof stateTransitions.$inferSelect;
export type NewStateTransition = typeof stateTransitions.$inferInsert;

export const errors = pgTable(
  'errors',
  {
    eventId: text('event_id').notNull(),
    at: at(),
    category: text('category').notNull(),
    type: text('type').notNull(),
    severity: text('severity').notNull(),
    code: text('code'),
    operation: text('operation'),
    message: text('message').notNull(),
    context: jsonb('context'),
    strategy: text('strategy'),
    recovered: boolean('recovered'),
    userId: text('user_id'),
  },
  // errors_at: time ranges and retention; errors_hour: error_rates_hourly.
  (t) => [primaryKey({ columns: [t.eventId, t.at] }), index('errors_at').on(t.at), index('errors_hour').on(utcBucket('hour', t.at))],
);
export type ErrorRow = typeof errors.$inferSelect;
export type NewErrorRow = typeof errors.$inferInsert;

export const recoveries = pgTable(
  'recoveries',
  {
    eventId: text('event_id').notNull(),
    at: at(),
    failureType: text('failure_type').notNull(),
    strategy: text('strategy').notNull(),
    outcome: text('outcome').notNull(),
    durationMs: integer('duration_ms').notNull(),
    context: jsonb('context'),
  },
  // recovery_times: by UTC day and failure type.
  (t) => [primaryKey({ columns: [t.eventId, t.at] }), index('recoveries_day_type').on(utcBucket('day', t.at), t.failureType)],
);
export type Recovery = typeof recoveries.$inferSelect;

export const breakerEvents = pgTable(
  'breaker_events',
  {
    eventId: text('event_id').notNull(),
    at: at(),
    dependency: text('dependency').notNull(),
    /** closed | open | half_open | isolated */
    state: text('state').notNull(),
    /** The process whose breaker changed (breakers are per process); null when unknown. */
    instance: text('instance'),
  },
  // breaker_downtime walks each dependency's events in time order.
  (t) => [primaryKey({ columns: [t.eventId, t.at] }), index('breaker_events_dep_at').on(t.dependency, t.at)],
);
export type BreakerEvent = typeof breakerEvents.$inferSelect;

export const checkpoints = pgTable(
  'checkpoints',
  {
    eventId: text('event_id').notNull(),
    at: at(),
    kind: text('kind').notNull(),
    subjectId: text('subject_id').notNull(),
    snapshot: jsonb('snapshot').notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.at] }), index('checkpoints_subject_at').on(t.subjectId, t.at)],
);
export type Checkpoint = typeof checkpoints.$inferSelect;

export const deadLetters = pgTable(
  'dead_letters',
  {
    /** `outbox:<pool>:<stream id>` for outbox entries. */
    id: text('id').primaryKey(),
    at: at(),
    source: text('source').notNull(),
    /** The record's kind when it could be read (transition, match_ended, ...). */
    kind: text('kind'),
    /** The record's event id when it could be read. */
    eventId: text('event_id'),
    payload: jsonb('payload').notNull(),
    error: text('error').notNull(),
    attempts: integer('attempts').notNull(),
    status: text('status').notNull().default('pending'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
  },
  // The replay queue (status) and dead_letter_summary (UTC day).
  (t) => [index('dead_letters_status').on(t.status, t.at), index('dead_letters_day').on(utcBucket('day', t.at))],
);
export type DeadLetter = typeof deadLetters.$inferSelect;
export type NewDeadLetter = typeof deadLetters.$inferInsert;

export const webhookEvents = pgTable(
  'webhook_events',
  {
    eventId: text('event_id').notNull(),
    at: at(),
    event: text('event').notNull(),
    room: text('room'),
    participant: text('participant'),
    valid: boolean('valid').notNull(),
    payload: jsonb('payload'),
  },
  // A room's webhooks in order (support questions about one call).
  (t) => [primaryKey({ columns: [t.eventId, t.at] }), index('webhook_events_room_at').on(t.room, t.at)],
);
export type WebhookEvent = typeof webhookEvents.$inferSelect;

/**
 * Chat transcripts: one row per chat message relayed (relay-2.lua), with the text as the sender
 * typed it and what the receiver was shown masked (server/safety/text-safety.ts). Read by
 * moderators for a report (server/safety/transcript.ts); kept CHAT_RETENTION_DAYS, not
 * AUDIT_RETENTION_DAYS, and not readable by the analyst role (migration 0005): these are
 * people's private words.
 */
export const chatMessages = pgTable(
  'chat_messages',
  {
    eventId: text('event_id').notNull(),
    at: at(),
    pool: text('pool').notNull(),
    matchId: text('match_id').notNull(),
    fromUser: text('from_user').notNull(),
    toUser: text('to_user').notNull(),
    clientMessageId: text('client_message_id').notNull(),
    text: text('text').notNull(),
    /** What the receiver saw masked: link, email, phone, word (empty: the text as typed). */
    masked: text('masked').array().notNull(),
  },
  // transcriptOf: one match's messages in order.
  (t) => [primaryKey({ columns: [t.eventId, t.at] }), index('chat_messages_match_at').on(t.matchId, t.at)],
);
export type ChatMessage = typeof chatMessages.$inferSelect;
