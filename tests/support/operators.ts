/**
 * Operators for tests: `operatorClient(app, role)` makes an operator of that role (straight into
 * the test database through the app's own service, or for a server in another process, through
 * `operators.bootstrap` with the test ADMIN_TOKEN and then `operators.create`), signs it in over
 * HTTP like the console does, and returns a typed tRPC client whose requests carry the cookie.
 */
import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { OperatorRole } from '../../server/operators/schema';
import type { OperatorIdentity } from '../../server/operators/service';
import type { AppRouter } from '../../server/trpc/router';
import { ADMIN_TOKEN, type TestApp } from './app';

export const OPERATOR_PASSWORD = 'correct horse battery staple';

export type OperatorApi = ReturnType<typeof createTRPCClient<AppRouter>>;

/** A server in this process (its services at hand), or one in another process (by URL only). */
type Target = Pick<TestApp, 'url' | 'server'> | { url: string };

async function post(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/trpc/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** Signs in; the `rdv_op=<token>` pair to send as the Cookie header. */
export async function signIn(
  url: string,
  name: string,
  password = OPERATOR_PASSWORD,
): Promise<{ cookie: string; setCookie: string; operator: OperatorIdentity }> {
  const res = await post(url, 'operators.login', { name, password });
  const body = (await res.json()) as { result?: { data: OperatorIdentity }; error?: unknown };
  if (!res.ok || !body.result) throw new Error(`operators.login failed: ${res.status} ${JSON.stringify(body)}`);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('rdv_op='));
  if (!setCookie) throw new Error('operators.login set no rdv_op cookie');
  return { cookie: setCookie.split(';')[0]!, setCookie, operator: body.result.data };
}

export function cookieClient(url: string, cookie: string, headers: Record<string, string> = {}) {
  return createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${url}/trpc`, headers: () => ({ cookie, ...headers }) })] });
}

/** Creates an operator (no session): directly in the app's database, or through bootstrap + create for a URL-only server. */
export async function createOperator(app: Target, role: OperatorRole, name = `${role}-${randomUUID().slice(0, 8)}`): Promise<OperatorIdentity> {
  if ('server' in app) return app.server.services.operators.create(name, OPERATOR_PASSWORD, role);
  const adminName = 'bootstrap-admin';
  const boot = await post(app.url, 'operators.bootstrap', { name: adminName, password: OPERATOR_PASSWORD }, { 'x-admin-token': ADMIN_TOKEN });
  if (!boot.ok && boot.status !== 409) throw new Error(`operators.bootstrap failed: ${boot.status} ${await boot.text()}`);
  const { cookie } = await signIn(app.url, adminName);
  if (role === 'admin' && name === adminName) return (await cookieClient(app.url, cookie).operators.me.query())!;
  return cookieClient(app.url, cookie).operators.create.mutate({ name, password: OPERATOR_PASSWORD, role });
}

/** A new operator of `role`, signed in: its client, cookie and identity. */
export async function operatorSession(app: Target, role: OperatorRole, opts: { name?: string } = {}) {
  const created = await createOperator(app, role, opts.name);
  const { cookie, setCookie, operator } = await signIn(app.url, created.name);
  return { api: cookieClient(app.url, cookie), cookie, setCookie, operator };
}

/** A tRPC client signed in as a new operator of `role`. */
export async function operatorClient(app: Target, role: OperatorRole, opts: { name?: string } = {}): Promise<OperatorApi> {
  return (await operatorSession(app, role, opts)).api;
}
