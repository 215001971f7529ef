/**
 * Operator accounts and console sessions, in Postgres so every server process sees a login, a
 * logout and a disable at once (no per-process cache: one indexed read per console request).
 *
 * A session is a random 256-bit token in the `rdv_op` cookie; only its sha256 is stored, so a
 * read of the table gives no way in. Disabling an account deletes its sessions in the same
 * statement batch, and a session is honoured only while its operator is enabled.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lt, ne, sql } from 'drizzle-orm';
import type { DbGuard } from '../audit/db-guard';
import type { Db } from '../infra/postgres';
import type { Clock } from '../shared/clock';
import { BootstrapClosedError, LoginFailedError, OperatorNameTakenError, OperatorNotFoundError, WrongPasswordError } from './errors';
import { hashPassword, passwordMatches } from './passwords';
import { operatorActions, operatorSessions, operators, type OperatorRole } from './schema';

export interface OperatorIdentity {
  id: string;
  name: string;
  role: OperatorRole;
}

export interface OperatorsOptions {
  sessionTtlMs: number;
  /** Verified against for an unknown name, so it takes as long as a wrong password (passwords.ts decoyHash, made at start). */
  decoyHash: string;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function isUniqueViolation(e: unknown): boolean {
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) if ((c as { code?: unknown }).code === '23505') return true;
  return false;
}

const identity = { id: operators.id, name: operators.name, role: operators.role };

export class Operators {
  constructor(
    private readonly db: Db,
    private readonly guard: DbGuard,
    private readonly clock: Clock,
    private readonly opts: OperatorsOptions,
  ) {}

  async create(name: string, password: string, role: OperatorRole): Promise<OperatorIdentity> {
    const passwordHash = await hashPassword(password);
    try {
      const [row] = await this.guard(() =>
        this.db
          .insert(operators)
          .values({ name, passwordHash, role, createdAt: new Date(this.clock.now()) })
          .returning(identity),
      );
      return row!;
    } catch (e) {
      if (isUniqueViolation(e)) throw new OperatorNameTakenError();
      throw e;
    }
  }

  /**
   * The first admin: created only while no admin exists (one at a time, under a transaction lock),
   * and entered in the action log in the same transaction, as done by itself.
   */
  async bootstrap(name: string, password: string): Promise<OperatorIdentity> {
    const passwordHash = await hashPassword(password);
    return this.guard(() =>
      this.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('rendezvous:operators:bootstrap'))`);
        const [admin] = await tx.select({ id: operators.id }).from(operators).where(eq(operators.role, 'admin')).limit(1);
        if (admin) throw new BootstrapClosedError();
        const [row] = await tx
          .insert(operators)
          .values({ name, passwordHash, role: 'admin', createdAt: new Date(this.clock.now()) })
          .returning(identity)
          .catch((e: unknown) => {
            throw isUniqueViolation(e) ? new OperatorNameTakenError() : e;
          });
        await tx.insert(operatorActions).values({
          at: new Date(this.clock.now()),
          operatorId: row!.id,
          operatorName: row!.name,
          role: 'admin',
          action: 'operators.bootstrap',
          target: row!.id,
          input: { name },
          outcome: 'ok',
        });
        return row!;
      }),
    );
  }

  /** A new session for a right name and password (LoginFailedError otherwise, the same for both). */
  async login(name: string, password: string): Promise<{ operator: OperatorIdentity; token: string; maxAgeMs: number }> {
    const [row] = await this.guard(() =>
      this.db
        .select({ ...identity, passwordHash: operators.passwordHash })
        .from(operators)
        .where(and(sql`lower(${operators.name}) = lower(${name})`, isNull(operators.disabledAt))),
    );
    const ok = await passwordMatches(row?.passwordHash ?? this.opts.decoyHash, password);
    if (!row || !ok) throw new LoginFailedError();
    const token = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    await this.guard(async () => {
      await this.db.delete(operatorSessions).where(lt(operatorSessions.expiresAt, new Date(now)));
      await this.db
        .insert(operatorSessions)
        .values({ tokenHash: tokenHash(token), operatorId: row.id, createdAt: new Date(now), expiresAt: new Date(now + this.opts.sessionTtlMs) });
      await this.db
        .update(operators)
        .set({ lastLoginAt: new Date(now) })
        .where(eq(operators.id, row.id));
    });
    return { operator: { id: row.id, name: row.name, role: row.role }, token, maxAgeMs: this.opts.sessionTtlMs };
  }

  /** The operator a cookie's token stands for: null when unknown, expired or disabled. */
  async fromToken(token: string): Promise<OperatorIdentity | null> {
    const [row] = await this.guard(() =>
      this.db
        .select(identity)
        .from(operatorSessions)
        .innerJoin(operators, eq(operators.id, operatorSessions.operatorId))
        .where(and(eq(operatorSessions.tokenHash, tokenHash(token)), gt(operatorSessions.expiresAt, new Date(this.clock.now())), isNull(operators.disabledAt))),
    );
    return row ?? null;
  }

  async logout(token: string): Promise<void> {
    await this.guard(() => this.db.delete(operatorSessions).where(eq(operatorSessions.tokenHash, tokenHash(token))));
  }

  list() {
    return this.guard(() =>
      this.db
        .select({ ...identity, createdAt: operators.createdAt, disabledAt: operators.disabledAt, lastLoginAt: operators.lastLoginAt })
        .from(operators)
        .orderBy(operators.createdAt),
    );
  }

  /** Changes a role, or disables (ending every session of the account at once) or enables an account. */
  async update(id: string, change: { role?: OperatorRole; disabled?: boolean }): Promise<void> {
    const set: Partial<typeof operators.$inferInsert> = {};
    if (change.role) set.role = change.role;
    if (change.disabled !== undefined) set.disabledAt = change.disabled ? new Date(this.clock.now()) : null;
    await this.guard(async () => {
      const found = Object.keys(set).length
        ? await this.db.update(operators).set(set).where(eq(operators.id, id)).returning({ id: operators.id })
        : await this.db.select({ id: operators.id }).from(operators).where(eq(operators.id, id));
      if (found.length === 0) throw new OperatorNotFoundError();
      if (change.disabled) await this.db.delete(operatorSessions).where(eq(operatorSessions.operatorId, id));
    });
  }

  /**
   * A new password for one's own account, given the current one; every other session of the
   * account ends (someone who learnt the old password is signed out), the one asking (`keepToken`) stays.
   */
  async changePassword(id: string, current: string, next: string, keepToken: string | null): Promise<void> {
    const [row] = await this.guard(() => this.db.select({ passwordHash: operators.passwordHash }).from(operators).where(eq(operators.id, id)));
    if (!row) throw new OperatorNotFoundError();
    if (!(await passwordMatches(row.passwordHash, current))) throw new WrongPasswordError();
    const passwordHash = await hashPassword(next);
    const others = keepToken
      ? and(eq(operatorSessions.operatorId, id), ne(operatorSessions.tokenHash, tokenHash(keepToken)))
      : eq(operatorSessions.operatorId, id);
    await this.guard(() =>
      this.db.transaction(async (tx) => {
        await tx.update(operators).set({ passwordHash }).where(eq(operators.id, id));
        await tx.delete(operatorSessions).where(others);
      }),
    );
  }
}
