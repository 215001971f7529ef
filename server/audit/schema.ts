/**
 * Audit tables (append-only event tables). Every row has a unique event id; event tables carry
 * the event time `at` in their primary key so they can be partitioned by month.
 */
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const at = () => timestamp('at', { withTimezone: true, mode: 'date' }).notNull();

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
    index('state_transitions_user_at').on(t.userId, t.at),
    index('state_transitions_match').on(t.matchId),
    index('state_transitions_to_at').on(t.toState, t.at),
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
  (t) => [primaryKey({ columns: [t.eventId, t.at] }), index('errors_at').on(t.at)],
);
export type ErrorRow = typeof errors.$inferSelect;

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
  (t) => [primaryKey({ columns: [t.eventId, t.at] })],
);

export const breakerEvents = pgTable(
  'breaker_events',
  {
    eventId: text('event_id').notNull(),
    at: at(),
    dependency: text('dependency').notNull(),
    state: text('state').notNull(),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.at] }), index('breaker_events_dep_at').on(t.dependency, t.at)],
);

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

export const deadLetters = pgTable(
  'dead_letters',
  {
    id: text('id').primaryKey(),
    at: at(),
    source: text('source').notNull(),
    payload: jsonb('payload').notNull(),
    error: text('error').notNull(),
    attempts: integer('attempts').notNull(),
    status: text('status').notNull().default('pending'),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('dead_letters_status').on(t.status, t.at)],
);
export type DeadLetter = typeof deadLetters.$inferSelect;

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
  (t) => [primaryKey({ columns: [t.eventId, t.at] })],
);

/** Drain bookkeeping: the highest outbox sequence seen per pool (for lag metrics). */
export const drainProgress = pgTable('drain_progress', {
  pool: text('pool').primaryKey(),
  lastEventAt: bigint('last_event_at', { mode: 'number' }).notNull(),
});
