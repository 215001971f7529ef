/** Matches (one row per match, updated as it connects and ends) and the block list. */
import { index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const matches = pgTable(
  'matches',
  {
    id: text('id').primaryKey(),
    pool: text('pool').notNull(),
    userA: text('user_a').notNull(),
    userB: text('user_b').notNull(),
    mode: text('mode').notNull(),
    room: text('room'),
    createdAt: tz('created_at').notNull(),
    connectedAt: tz('connected_at'),
    endedAt: tz('ended_at'),
    endReason: text('end_reason'),
    endedBy: text('ended_by'),
    waitedAMs: integer('waited_a_ms'),
    waitedBMs: integer('waited_b_ms'),
  },
  (t) => [index('matches_created_at').on(t.createdAt), index('matches_user_a').on(t.userA), index('matches_user_b').on(t.userB)],
);
export type Match = typeof matches.$inferSelect;

export const blocks = pgTable(
  'blocks',
  {
    blockerId: text('blocker_id').notNull(),
    blockedId: text('blocked_id').notNull(),
    createdAt: tz('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.blockerId, t.blockedId] })],
);
