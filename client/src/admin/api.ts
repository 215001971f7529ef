/**
 * The console's one module that talks to the server: tRPC over HTTP (`httpBatchLink`, same
 * origin, so the HttpOnly `rdv_op` cookie goes with every request; no token in script reach).
 *
 * The procedures the console calls are listed in `KINDS` by path; their inputs and answers are
 * the server's own types (`AppRouter`), so a change on the server fails the console's build.
 *
 * `call('admin.overview', input)` is the narrow wrapper: the path picks query or mutation, the
 * input type and the answer type. Failures are `TRPCClientError`s; `messageOf` turns one into the
 * server's sentence for the operator.
 */
import { TRPCClientError, createTRPCUntypedClient, httpBatchLink } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../../server/trpc/router';

type RouterIn = inferRouterInputs<AppRouter>;
type RouterOut = inferRouterOutputs<AppRouter>;
/** The type at a dotted path ('admin.switches.set') of the router's input or output tree. */
type At<T, P extends string> = P extends `${infer H}.${infer R}` ? (H extends keyof T ? At<T[H], R> : never) : P extends keyof T ? T[P] : never;

export type Role = 'viewer' | 'moderator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'moderator', 'admin'];
export type State = 'IDLE' | 'WAITING' | 'CONNECTING' | 'IN_CALL' | 'DISCONNECTING';
export const STATES: readonly State[] = ['IDLE', 'WAITING', 'CONNECTING', 'IN_CALL', 'DISCONNECTING'];

/** Whether each procedure the console calls is a query or a mutation (its types come from `AppRouter`). */
const KINDS = {
  'operators.me': 'query',
  'operators.login': 'mutation',
  'operators.logout': 'mutation',
  'operators.list': 'query',
  'operators.create': 'mutation',
  'operators.update': 'mutation',
  'operators.actions': 'query',
  'operators.changePassword': 'mutation',
  'admin.overview': 'query',
  'admin.funnel': 'query',
  'admin.lookup': 'query',
  'admin.userDetail': 'query',
  'admin.endMatch': 'mutation',
  'admin.disconnect': 'mutation',
  'admin.switches.get': 'query',
  'admin.switches.set': 'mutation',
  'admin.recovery': 'query',
  'admin.privacy.export': 'query',
  'admin.privacy.erase': 'mutation',
  'admin.force': 'mutation',
  'admin.audit.match': 'query',
  'admin.pools.pause': 'mutation',
  'admin.pools.resume': 'mutation',
  'admin.moderation.reports': 'query',
  'admin.moderation.decide': 'mutation',
  'admin.moderation.appeals': 'query',
  'admin.moderation.decideAppeal': 'mutation',
  'admin.moderation.warn': 'mutation',
  'admin.moderation.ban': 'mutation',
  'admin.moderation.lift': 'mutation',
  'admin.deadLetters.list': 'query',
  'admin.deadLetters.retry': 'mutation',
  'admin.deadLetters.discard': 'mutation',
} as const;

export type Path = keyof typeof KINDS;
export type InputOf<P extends Path> = At<RouterIn, P>;
export type OutputOf<P extends Path> = At<RouterOut, P>;

export type Operator = NonNullable<OutputOf<'operators.me'>>;
export type OperatorRow = OutputOf<'operators.list'>[number];
export type OperatorAction = OutputOf<'operators.actions'>[number];
export type Switches = OutputOf<'admin.switches.get'>;
export type SwitchName = 'stopMatching' | 'textOnly' | 'tightLimits';
export type Overview = OutputOf<'admin.overview'>;
export type Funnel = OutputOf<'admin.funnel'>;
export type FunnelCounts = Omit<Funnel['totals'], 'missingShare' | 'relayedShare'>;
export type LookupHit = OutputOf<'admin.lookup'>[number];
export type UserDetail = OutputOf<'admin.userDetail'>;
export type Recovery = OutputOf<'admin.recovery'>;

export function createAdminApi(url = '/trpc') {
  const client = createTRPCUntypedClient({ links: [httpBatchLink({ url })] });
  /** Queries and mutations are told apart by KINDS; a wrong path or input fails to compile. */
  async function call<P extends Path>(path: P, ...input: undefined extends InputOf<P> ? [InputOf<P>?] : [InputOf<P>]): Promise<OutputOf<P>> {
    // The untyped client answers `unknown`; the answer is the router's output for `path` (AppRouter).
    const answer = KINDS[path] === 'query' ? client.query(path, input[0]) : client.mutation(path, input[0]);
    return answer as Promise<OutputOf<P>>;
  }
  return { call };
}
export type AdminApi = ReturnType<typeof createAdminApi>;

/** The server's sentence for the operator (every server error carries one written for a person). */
export function messageOf(e: unknown): string {
  if (e instanceof TRPCClientError) return e.message;
  return e instanceof Error ? e.message : 'Something went wrong.';
}

/** The tRPC code of a refused call (UNAUTHORIZED: signed out or the session ended; FORBIDDEN: the role does not allow it). */
export function codeOf(e: unknown): string | null {
  if (!(e instanceof TRPCClientError)) return null;
  return (e.data as { code?: string } | undefined)?.code ?? null;
}
