/**
 * Operator accounts, their sessions and every action they take. Private: the analyst role may not
 * read them (password hashes, session token hashes, and what operators did to whom).
 */
import { sql } from 'drizzle-orm';
import { index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const OPERATOR_ROLES = ['viewer', 'moderator', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export const operators = pgTable(
  'operators',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    /** argon2id, PHC string (passwords.ts). */
    passwordHash: text('password_hash').notNull(),
    role: text('role').$type<OperatorRole>().notNull(),
    createdAt: tz('created_at').notNull(),
    /** Set: the account can neither sign in nor act, and its sessions are gone. */
    disabledAt: tz('disabled_at'),
    lastLoginAt: tz('last_login_at'),
  },
  // Names are unique whatever their case: "Ann" and "ann" are one operator.
  (t) => [uniqueIndex('operators_name_lower').on(sql`lower(${t.name})`)],
);
export type OperatorRow = typeof operators.$inferSelect;

/** A signed-in console: the cookie's token is stored only as its sha256 (hex). */
export const operatorSessions = pgTable(
  'operator_sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    operatorId: uuid('operator_id')
      .notNull()
      .references(() => operators.id, { onDelete: 'cascade' }),
    createdAt: tz('created_at').notNull(),
    expiresAt: tz('expires_at').notNull(),
  },
  (t) => [index('operator_sessions_operator').on(t.operatorId)],
);

export const ACTION_OUTCOMES = ['pending', 'ok', 'error'] as const;
export type ActionOutcome = (typeof ACTION_OUTCOMES)[number];

/**
 * Every mutation an operator makes, written before it runs ('pending') and settled after ('ok' or
 * 'error' with its code). Name and role are copied in: the record stays true if the account changes.
 */
export const operatorActions = pgTable(
  'operator_actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    at: tz('at').notNull(),
    operatorId: uuid('operator_id').notNull(),
    operatorName: text('operator_name').notNull(),
    role: text('role').$type<OperatorRole>().notNull(),
    /** The procedure's path, e.g. `admin.moderation.ban`. */
    action: text('action').notNull(),
    target: text('target'),
    /** The input with secrets (passwords) removed. */
    input: jsonb('input'),
    outcome: text('outcome').$type<ActionOutcome>().notNull(),
    errorCode: text('error_code'),
  },
  (t) => [
    index('operator_actions_at').on(t.at),
    index('operator_actions_operator_at').on(t.operatorId, t.at),
    index('operator_actions_target_at').on(t.target, t.at),
  ],
);
export type OperatorAction = typeof operatorActions.$inferSelect;
