/**
 * Privacy requests (admin.privacy): export everything stored about a person, or erase them.
 *
 * Export gives the person what is about them and nothing about anyone else: wherever a row names
 * someone else (a partner in a match or a chat, the person they reported or blocked) that id
 * becomes `partner`; reports about them leave out the reporter, the reporter's note, the match
 * and the reporter's side of the transcript; blocks of them are left out (who blocked them is
 * the blocker's business); the picture they attached to a report (someone else's face) is left out.
 *
 * Erase (docs/analytics.md, "Erasure"): only a person who is not in a match or a queue (IDLE, or
 * no state at all), so no record of theirs is on its way to Postgres from a live match. Their
 * words go (chat messages they sent or received, their lines in report transcripts, the notes and
 * pictures of reports they made, the text of their appeals, their blocks, their checkpoints, their
 * Redis event history); their name goes from Redis (the user hash and the pools' name indexes).
 * Where a row must stay for the counts analysts rely on (state_transitions, matches, reports,
 * appeals, errors, operator_actions), their id is replaced by a pseudonym `erased:<hmac>` (keyed
 * with the deployment's secret: the same person always gets the same one, and it cannot be turned
 * back into the id). moderation_actions keep the real id: a ban must stay enforceable, and
 * sanctions.restore() rebuilds bans from those rows after Redis loses them.
 */
import { createHmac } from 'node:crypto';
import { eq, or, sql } from 'drizzle-orm';
import { checkpoints, chatMessages, errors, stateTransitions } from '../audit/schema';
import { pipelineAcross, type Queued } from '../infra/redis';
import { blocks, matches } from '../match/schema';
import { operatorActions } from '../operators/schema';
import { USER_MESSAGES } from '../resilience/messages';
import { appeals, moderationActions, reports } from '../safety/schema';
import type { Services } from '../services';
import { DomainError } from '../state/errors';

// Rows written back per INSERT (Postgres takes at most 65535 parameters; a transition row has about a dozen).
const REWRITE_BATCH = 1000;

/** What an export says in place of anyone else's id. */
export const OTHER = 'partner';

/** Erase refused: the person is waiting or in a match (records of theirs are still being written). */
export class PersonActiveError extends DomainError {
  readonly code = 'PERSON_ACTIVE';
  readonly httpCode = 'PRECONDITION_FAILED';
  constructor(state: string) {
    super(USER_MESSAGES.PERSON_ACTIVE, { state });
  }
}

/** One line of a report's transcript as the jsonb holds it (server/safety/transcript.ts). */
type Line = { from?: unknown; to?: unknown; text?: unknown; masked?: unknown } & Record<string, unknown>;
const linesOf = (t: unknown): Line[] => (Array.isArray(t) ? (t as Line[]) : []);

/** `value` with every string that holds one of `ids` rewritten to name OTHER instead (ids are UUIDs: no false hits). */
function hide<T>(value: T, ids: ReadonlySet<string>): T {
  if (typeof value === 'string') {
    let s: string = value;
    for (const id of ids) if (s.includes(id)) s = s.replaceAll(id, OTHER);
    return s as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => hide(v, ids)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hide(v, ids)])) as T;
  }
  return value;
}

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
      // The blocks they made; blocks of them are the blockers' (they would say who blocked them).
      db.select().from(blocks).where(eq(blocks.blockerId, userId)),
      // What operators did about them (the operators' names are part of the record of their case).
      db.select().from(operatorActions).where(eq(operatorActions.target, userId)),
    ]);
    // Everyone else these rows name: written as OTHER wherever they appear.
    const others = new Set<string>([
      // endedBy is left out: a person who ended a match is userA or userB; otherwise it names the operator.
      ...ms.flatMap((m) => [m.userA, m.userB]),
      ...chat.flatMap((c) => [c.fromUser, c.toUser]),
      ...reportsBy.map((r) => r.reportedId),
      ...reportsAbout.map((r) => r.reporterId),
      ...blockRows.map((b) => b.blockedId),
      ...[...reportsBy, ...reportsAbout].flatMap((r) => linesOf(r.transcript).flatMap((l) => [String(l.from), String(l.to)])),
      live?.matchedWith ?? '',
    ]);
    others.delete(userId);
    others.delete('');
    // Operators and the system are named in the record of a case (`operator:<name>`), never hidden.
    for (const id of others) if (id.startsWith('operator:') || !id.trim()) others.delete(id);
    const out = {
      userId,
      exportedAt: new Date(this.svc.clock.now()).toISOString(),
      user: live,
      transitions,
      matches: ms,
      chatMessages: chat,
      // Their reports: the picture they attached shows someone else, so only that there was one.
      reportsBy: reportsBy.map(({ snapshot, snapshotType: _type, ...r }) => ({ ...r, snapshotAttached: snapshot !== null })),
      // Reports about them: when, why, what was decided, the picture of them, and their own lines.
      reportsAbout: reportsAbout.map(({ reporterId: _by, note: _note, matchId: _match, transcript, snapshot, ...r }) => ({
        ...r,
        snapshot: snapshot ? snapshot.toString('base64') : null,
        transcript: linesOf(transcript).filter((l) => l.from === userId),
      })),
      moderationActions: moderation,
      appeals: appealRows,
      blocks: blockRows,
      operatorActions: operatorRows,
    };
    return hide(out, others);
  }

  async erase(userId: string): Promise<{ removed: Record<string, number>; pseudonym: string }> {
    const alias = pseudonym(this.svc.sessionSecret, userId);
    const { store, redis } = this.svc;
    // A person waiting or in a match still has records on their way (the outbox): refused, not half done.
    const state = await redis.hget(store.keys.user(await store.poolOf(userId), userId), 'state');
    if (state && state !== 'IDLE') throw new PersonActiveError(state);
    const removed: Record<string, number> = {};
    const name = await this.forgetName(userId);
    removed.redis_name = name ? 1 : 0;
    removed.redis_event_history = await this.forgetEvents(userId);
    // The blocks they made go from Redis as from Postgres (blocks of them stay: they are the blockers').
    const theirBlocks = await redis.smembers(store.keys.blocksOf(userId));
    for (const other of theirBlocks) await store.blockMirror(userId, other, false);
    removed.redis_blocks = theirBlocks.length;
    await this.svc.database.db.transaction(async (tx) => {
      const n = async (table: string, q: Promise<unknown>) => {
        const r = (await q) as { rowCount?: number | null; affectedRows?: number } | undefined;
        removed[table] = (removed[table] ?? 0) + Number(r?.rowCount ?? r?.affectedRows ?? 0);
      };
      // Their lines in the transcripts copied into reports (by them or about them): the words go, the ids become the pseudonym.
      const involved = await tx
        .select({ id: reports.id, transcript: reports.transcript })
        .from(reports)
        .where(or(eq(reports.reporterId, userId), eq(reports.reportedId, userId)));
      for (const r of involved) {
        const lines = linesOf(r.transcript).map((l) =>
          l.from === userId ? { ...l, from: alias, text: '', masked: [], erased: true } : l.to === userId ? { ...l, to: alias } : l,
        );
        await tx.update(reports).set({ transcript: lines }).where(eq(reports.id, r.id));
      }
      removed.report_transcripts = involved.length;
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
      // moderation_actions keep the real id: sanctions.restore() rebuilds bans from them (docs/analytics.md, "Erasure").
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

  /** Their event history (the resume source, which holds what was said to and by them) in every pool. */
  private async forgetEvents(userId: string): Promise<number> {
    const { store, redis } = this.svc;
    const keys = (await store.pools()).flatMap((p) => [store.keys.events(p, userId), store.keys.eventBytes(p, userId)]);
    const replies = await pipelineAcross(
      redis,
      keys.map((k): Queued => [k, (c) => c.del(k)]),
    );
    return replies.reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
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
        const k = store.keys.names(p, name);
        return [k, (c) => c.zrem(k, userId)];
      }),
    );
    return name;
  }
}
