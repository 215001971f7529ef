/** The console's client in tests: an admin operator signed in to `app`, its `admin.*` procedures. */
import { startTestApp, type TestApp } from '../support/app';
import { operatorSession } from '../support/operators';

export async function consoleClient(app: TestApp) {
  return (await operatorSession(app, 'admin')).api.admin;
}

/** A second server process on the first one's Redis (same prefix) and Postgres. */
export function secondApp(app: TestApp, env: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp({ ...app.redisEnv, ...env }, { redisUrl: app.redisUrl, databaseUrl: app.databaseUrl, prefix: app.prefix });
}
