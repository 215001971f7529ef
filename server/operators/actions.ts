/**
 * The operator action log: every mutation an operator makes through the role procedures
 * (trpc.ts) is written here before it runs ('pending') and settled after ('ok', or 'error' with
 * its code). If the first write fails the action is refused, so nothing is done unaudited; a
 * row left 'pending' means the process died (or Postgres went away) between the two.
 */
import { and, desc, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import type { DbGuard } from '../audit/db-guard';
import type { Db } from '../infra/postgres';
import type { Clock } from '../shared/clock';
import { operatorActions } from './schema';
import type { OperatorIdentity } from './service';

/** Input keys never written to the log (a password typed into operators.create, changePassword, bootstrap). */
const SECRET_KEYS = new Set(['password', 'current', 'next']);

/** The keys a target is taken from, first found wins (the contract's order). */
const TARGET_KEYS = ['userId', 'matchId', 'pool', 'reportId', 'appealId', 'id'] as const;

export function targetOf(input: unknown): string | null {
  if (!input || typeof input !== 'object') return null;
  for (const k of TARGET_KEYS) {
    const v = (input as Record<string, unknown>)[k];
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return null;
}

export function withoutSecrets(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input ?? null;
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, SECRET_KEYS.has(k) ? '[removed]' : v]));
}

/**
 * A read of a person's data is recorded once per operator, procedure and input in this window
 * (counting only reads that were answered): the console polls a person's detail while it is open,
 * and one row says as much as a hundred. Two processes may each write one (harmless: extra rows).
 */
export const READ_RECORD_WINDOW_MS = 5 * 60_000;

/** The one read never folded into an earlier row: a download of everything stored about a person. */
const ALWAYS_RECORDED = 'admin.privacy.export';

export interface ActionQuery {
  limit: number;
  operatorId?: string;
  target?: string;
}

export class OperatorActions {
  constructor(
    private readonly db: Db,
    private readonly guard: DbGuard,
    private readonly clock: Clock,
  ) {}

  /** Writes the 'pending' row; throws when it cannot (the caller refuses the action). */
  async begin(operator: OperatorIdentity, action: string, input: unknown): Promise<string> {
    const [row] = await this.guard(() =>
      this.db
        .insert(operatorActions)
        .values({
          at: new Date(this.clock.now()),
          operatorId: operator.id,
          operatorName: operator.name,
          role: operator.role,
          action,
          target: targetOf(input),
          input: withoutSecrets(input),
          outcome: 'pending',
        })
        .returning({ id: operatorActions.id }),
    );
    return row!.id;
  }

  /**
   * A read of a person's data (trpc.ts AUDITED_READS): written like a mutation's row, unless the
   * same operator read the same target through the same procedure within READ_RECORD_WINDOW_MS
   * (then null: nothing to settle). Throws when it cannot read or write (the read is refused).
   */
  async beginRead(operator: OperatorIdentity, action: string, input: unknown): Promise<string | null> {
    // A download of everything about a person is recorded every time.
    if (action === ALWAYS_RECORDED) return this.begin(operator, action, input);
    const target = targetOf(input);
    const since = new Date(this.clock.now() - READ_RECORD_WINDOW_MS);
    const [recent] = await this.guard(() =>
      this.db
        .select({ id: operatorActions.id })
        .from(operatorActions)
        .where(
          and(
            target === null ? isNull(operatorActions.target) : eq(operatorActions.target, target),
            gt(operatorActions.at, since),
            eq(operatorActions.operatorId, operator.id),
            eq(operatorActions.action, action),
            // The same read: same input, and one that was answered (a refused one hides nothing).
            eq(operatorActions.outcome, 'ok'),
            sql`coalesce(${operatorActions.input}, 'null'::jsonb) = ${JSON.stringify(withoutSecrets(input))}::jsonb`,
          ),
        )
        .limit(1),
    );
    return recent ? null : this.begin(operator, action, input);
  }

  /** Settles a row: errorCode null for success. */
  async settle(id: string, errorCode: string | null): Promise<void> {
    await this.guard(() =>
      this.db
        .update(operatorActions)
        .set({ outcome: errorCode === null ? 'ok' : 'error', errorCode })
        .where(eq(operatorActions.id, id)),
    );
  }

  /** Newest first. */
  async list(q: ActionQuery) {
    const where: SQL[] = [];
    if (q.operatorId) where.push(eq(operatorActions.operatorId, q.operatorId));
    if (q.target) where.push(eq(operatorActions.target, q.target));
    const rows = await this.guard(() =>
      this.db
        .select()
        .from(operatorActions)
        .where(and(...where))
        .orderBy(desc(operatorActions.at), desc(operatorActions.id))
        .limit(q.limit),
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      operator: r.operatorName,
      role: r.role,
      action: r.action,
      target: r.target,
      input: r.input,
      outcome: r.outcome,
      errorCode: r.errorCode,
    }));
  }
}
