/**
 * /healthz (process alive) and /readyz (Redis and Postgres reachable, migrations applied). /readyz
 * says which dependency is down in a fixed sentence; the driver's own text goes to the log only.
 */
import type { ServerResponse } from 'node:http';
import { sql } from 'drizzle-orm';
import type { Services } from '../services';
import { appliedMigrations, expectedMigrations } from '../infra/postgres';

async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, no) => (t = setTimeout(() => no(new Error(`no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

export async function readiness(svc: Services): Promise<{ ready: boolean; checks: Record<string, { ok: boolean; reason?: string }> }> {
  const checks: Record<string, { ok: boolean; reason?: string }> = {};
  try {
    await within(svc.redis.ping(), 1000);
    checks.redis = { ok: true };
  } catch (e) {
    svc.log.debug({ err: e }, 'readiness: Redis check failed');
    checks.redis = { ok: false, reason: 'Redis is not answering.' };
  }
  try {
    await within(svc.database.db.execute(sql`select 1`), 1000);
    checks.postgres = { ok: true };
    const applied = await within(appliedMigrations(svc.database.db), 1000);
    const expected = expectedMigrations();
    checks.migrations = applied >= expected ? { ok: true } : { ok: false, reason: `${applied} of ${expected} migrations applied` };
  } catch (e) {
    svc.log.debug({ err: e }, 'readiness: Postgres check failed');
    checks.postgres = { ok: false, reason: 'Postgres is not answering.' };
  }
  return { ready: Object.values(checks).every((c) => c.ok) && Object.keys(checks).length === 3, checks };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
