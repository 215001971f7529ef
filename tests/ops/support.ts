/**
 * The console's client in tests: ONE helper, so the lead converts it to the operator helper
 * (tests/support/operators.ts) at the auth merge by changing this function only.
 */
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from '../../server/trpc/router';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/app';

export function consoleClient(app: TestApp) {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${app.url}/trpc`, headers: () => ({ 'x-admin-token': ADMIN_TOKEN }) })] }).admin;
}

/** A second server process on the first one's Redis (same prefix) and Postgres. */
export function secondApp(app: TestApp, env: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp({ ...app.redisEnv, ...env }, { redisUrl: app.redisUrl, databaseUrl: app.databaseUrl, prefix: app.prefix });
}
