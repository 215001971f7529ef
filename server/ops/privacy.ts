/**
 * Privacy requests (admin.privacy): export everything stored about a person, or erase them.
 *
 * Erase (docs/analytics.md, "Erasure"): their words go (chat messages they sent or received,
 * the notes and pictures of reports they made, the text of their appeals, their blocks, their
 * checkpoints); their name goes from Redis (the user hash and the pools' name indexes). Where a
 * row must stay for the counts analysts and safety rely on (state_transitions, matches,
 * moderation_actions, reports, appeals, errors, operator_actions), their id is replaced by a pseudonym
 * `erased:<hmac>` (keyed with the deployment's secret: the same person always gets the same one,
 * and it cannot be turned back into the id). A ban stays in force: its Redis keys (by id, device
 * and address) are left to expire as they would, and its Postgres record keeps the pseudonym.
 */
import { createHmac } from 'node:crypto';
import { eq, or, sql } from 'drizzle-orm';
import { checkpoints, chatMessages, errors, stateTransitions } from '../audit/schema';
import { pipelineAcross, type Queued } from '../infra/redis';
import { blocks, matches } from '../match/schema';
import { operatorActions } from '../operators/schema';
import { appeals, moderationActions, reports } from '../safety/schema';
import type { Services } from '../services';
import { nameIndexKey } from '../state/keys';

// Rows written back per INSERT (Postgres takes at most 65535 parameters; a transition row has about a dozen).
const REWRITE_BATCH = 1000;

type Parts = Pick<Services, 'store' | 'redis' | 'database' | 'sessionSecret' | 'clock'>;

export function pseudonym(secret: string, userId: string): string {
  return `erased:${createHmac('sha256', secret).update(`erase:${userId}`).digest('base64url').slice(0, 22)}`;
}

export class Privacy {
  constructor(private readonly svc: Parts) {}

  async export(userId: string) {
    const db = this.svc.database.db;
    const pool = await this.svc.store.poolOf(userId);
    const live = (await this.svc.redis.exists(this.svc.store.keys.user(pool, userId))) === 1 ? await this.svc.store.getUser(userId, pool) : null;
    const [transitions, ms, chat, reportsBy, reportsAbout, moderation, appealRows, blockRows, operatorRows] = await Promise.all([
      db.select().from(stateTransitions).where(eq(stateTransitions.userId, userId)),
      db
        .select()
        .from(matches)
        .where(or(eq(matches.userA, userId), eq(matches.userB, userId))),
      db
        .select()
        .from(chatMessages)
        .where(or(eq(chatMessages.fromUser, userId), eq(chatMessages.toUser, userId))),
      db.select().from(reports).where(eq(reports.reporterId, userId)),
      db.select().from(reports).where(eq(reports.reportedId, userId)),
      db.select().from(moderationActions).where(eq(moderationActions.userId, userId)),
      db.select().from(appeals).where(eq(appeals.userId, userId)),
      db
        .select()
        .from(blocks)
        .where(or(eq(blocks.blockerId, userId), eq(blocks.blockedId, userId))),
      // What operators did about them (the operators' names are part of the record of their case).
      db.select().from(operatorActions).where(eq(operatorActions.target, userId)),
    ]);
    // Pictures travel as base64 in the JSON; the reports about them keep the reporters' ids out.
    const picture = (r: (typeof reportsBy)[number]) => ({ ...r, snapshot: r.snapshot ? r.snapshot.toString('base64') : null });
    return {
      userId,
      exportedAt: new Date(this.svc.clock.now()).toISOString(),
      user: live,
      transitions,
      matches: ms,
      chatMessages: chat,
      reportsBy: reportsBy.map(picture),
      reportsAbout: reportsAbout.map((r) => ({ ...picture(r), reporterId: null })),
      moderationActions: moderation,
      appeals: appealRows,
      blocks: blockRows,
      operatorActions: operatorRows,
    };
  }

  async erase(userId: string): Promise<{ removed: Record<string, number>; pseudonym: string }> {
    const alias = pseudonym(this.svc.sessionSecret, userId);
    const removed: Record<string, number> = {};
    const name = await this.forgetName(userId);
    removed.redis_name = name ? 1 : 0;
    await this.svc.database.db.transaction(async (tx) => {
      const n = async (table: string, q: Promise<unknown>) => {
        const r = (await q) as { rowCount?: number | null; affectedRows?: number } | undefined;
        removed[table] = (removed[table] ?? 0) + Number(r?.rowCount ?? r?.affectedRows ?? 0);
      };
      await n('chat_messages', tx.delete(chatMessages).where(or(eq(chatMessages.fromUser, userId), eq(chatMessages.toUser, userId))));
      await n(
        'report_evidence',
        tx.update(reports).set({ note: null, snapshot: null, snapshotType: null, reporterId: alias }).where(eq(reports.reporterId, userId)),
      );
      await n('reports_about', tx.update(reports).set({ reportedId: alias }).where(eq(reports.reportedId, userId)));
      await n('appeals', tx.update(appeals).set({ text: '', userId: alias }).where(eq(appeals.userId, userId)));
      await n('blocks', tx.delete(blocks).where(eq(blocks.blockerId, userId)));
      await n('blocks', tx.update(blocks).set({ blockedId: alias }).where(eq(blocks.blockedId, userId)));
      await n('checkpoints', tx.delete(checkpoints).where(eq(checkpoints.subjectId, userId)));
      // The event tables are append-only (a trigger refuses UPDATE, migration 0002): their rows are
      // taken out and written again under the pseudonym, in this transaction.
      const moved = await tx.delete(stateTransitions).where(eq(stateTransitions.userId, userId)).returning();
      for (let i = 0; i < moved.length; i += REWRITE_BATCH) {
        await tx.insert(stateTransitions).values(moved.slice(i, i + REWRITE_BATCH).map((r) => ({ ...r, userId: alias })));
      }
      removed.state_transitions = moved.length;
      await n('matches', tx.update(matches).set({ userA: alias }).where(eq(matches.userA, userId)));
      await n('matches', tx.update(matches).set({ userB: alias }).where(eq(matches.userB, userId)));
      await n('matches', tx.update(matches).set({ endedBy: alias }).where(eq(matches.endedBy, userId)));
      await n('moderation_actions', tx.update(moderationActions).set({ userId: alias }).where(eq(moderationActions.userId, userId)));
      const errs = await tx.delete(errors).where(eq(errors.userId, userId)).returning();
      for (let i = 0; i < errs.length; i += REWRITE_BATCH) {
        await tx.insert(errors).values(errs.slice(i, i + REWRITE_BATCH).map((r) => ({ ...r, userId: alias })));
      }
      removed.errors = errs.length;
      // The operator action log keeps what was done, about the pseudonym (its input may name them too).
      await n(
        'operator_actions',
        tx
          .update(operatorActions)
          .set({ target: alias, input: sql`replace(${operatorActions.input}::text, ${userId}, ${alias})::jsonb` })
          .where(eq(operatorActions.target, userId)),
      );
    });
    return { removed, pseudonym: alias };
  }

  /** The name leaves the person's hash and every pool's name index. Returns the name it had. */
  private async forgetName(userId: string): Promise<string> {
    const { store, redis } = this.svc;
    const pool = await store.poolOf(userId);
    const userKey = store.keys.user(pool, userId);
    const name = (await redis.hget(userKey, 'name')) ?? '';
    await redis.hdel(userKey, 'name');
    if (!name) return name;
    const pools = await store.pools();
    await pipelineAcross(
      redis,
      pools.map((p): Queued => {
        const k = `${store.keys.poolPrefix(p)}names:${nameIndexKey(name)}`;
        return [k, (c) => c.zrem(k, userId)];
      }),
    );
    return name;
  }
}
