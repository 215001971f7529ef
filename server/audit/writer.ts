/**
 * AuditWriter: applies a batch of outbox records to Postgres in one transaction. Event rows are
 * inserted with ON CONFLICT DO NOTHING on their event id, match rows are upserted with guards,
 * so applying the same batch twice changes nothing (the drain may redeliver after a crash).
 */
import { and, isNull, sql } from 'drizzle-orm';
import type { Db } from '../infra/postgres';
import { matches } from '../match/schema';
import { toTransitionRow, type OutboxRecord } from './records';
import { errors, stateTransitions } from './schema';

export async function applyRecords(db: Db, records: OutboxRecord[]): Promise<void> {
  await db.transaction(async (tx) => {
    const transitions = records.filter((r) => r.kind === 'transition').map(toTransitionRow);
    if (transitions.length) await tx.insert(stateTransitions).values(transitions).onConflictDoNothing();
    const errs = records.flatMap((r) => (r.kind === 'error' || r.kind === 'repair' ? [toErrorRow(r)] : []));
    if (errs.length) await tx.insert(errors).values(errs).onConflictDoNothing();
    for (const r of records) {
      switch (r.kind) {
        case 'match_created':
          await tx
            .insert(matches)
            .values({ id: r.matchId, pool: r.pool, userA: r.userA, userB: r.userB, mode: r.mode, createdAt: new Date(r.at), waitedAMs: r.waitedA ?? null, waitedBMs: r.waitedB ?? null })
            .onConflictDoNothing();
          break;
        case 'match_room':
          await tx.update(matches).set({ room: r.room, mode: r.mode }).where(sql`${matches.id} = ${r.matchId}`);
          break;
        case 'match_connected':
          await tx.update(matches).set({ connectedAt: new Date(r.at) }).where(and(sql`${matches.id} = ${r.matchId}`, isNull(matches.connectedAt)));
          break;
        case 'match_ended':
          await tx
            .update(matches)
            .set({ endedAt: new Date(r.at), endReason: r.reason, endedBy: r.endedBy ?? null })
            .where(and(sql`${matches.id} = ${r.matchId}`, isNull(matches.endedAt)));
          break;
        default:
          break;
      }
    }
  });
}

function toErrorRow(r: Extract<OutboxRecord, { kind: 'error' | 'repair' }>): typeof errors.$inferInsert {
  if (r.kind === 'repair') {
    return {
      eventId: r.eventId,
      at: new Date(r.at),
      category: 'persistent',
      type: 'matching',
      severity: 'medium',
      code: 'STATE_REPAIRED',
      operation: 'consistency_check',
      message: 'User state sets disagreed with the user hash and were repaired',
      context: { userId: r.userId, removed: r.removed, added: r.added, state: r.state },
      strategy: 'repair',
      recovered: true,
      userId: r.userId,
    };
  }
  return {
    eventId: r.eventId,
    at: new Date(r.at),
    category: r.category,
    type: r.type,
    severity: r.severity,
    code: r.code ?? null,
    operation: r.operation ?? null,
    message: r.message,
    context: r.context ?? null,
    strategy: r.strategy ?? null,
    recovered: r.recovered ?? null,
    userId: r.userId ?? null,
  };
}
