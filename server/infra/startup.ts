/** Start-up failures a person can fix, as one plain line with the fix (main.ts prints it). */
import { StartupError } from './embedded-redis';

const FIX = {
  postgres: 'start Postgres there, fix DATABASE_URL, or unset it to use the embedded database',
  redis: 'start Redis there, fix REDIS_URL, or unset it to use a local or spawned redis-server',
} as const;

/** The URL without its password, fit for a log line. */
export function redact(url: string | undefined): string {
  if (!url) return 'the embedded database';
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the configured URL';
  }
}

/** Runs `connect`; a failure to reach `what` becomes a StartupError naming where and what to do. */
export async function reachable<T>(what: keyof typeof FIX, url: string | undefined, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new StartupError(`${what === 'postgres' ? 'Postgres' : 'Redis'} at ${redact(url)} is not reachable (${reason}): ${FIX[what]}.`);
  }
}
