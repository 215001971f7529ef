/**
 * The console's one module that talks to the server: tRPC over HTTP (`httpBatchLink`, same
 * origin, so the HttpOnly `rdv_op` cookie goes with every request; no token in script reach).
 *
 * The procedures the console needs are listed in `Procedures` by path, with their input and
 * output. Those that exist today (the older admin.* ones) take their types from `AppRouter`; the
 * new ones (operators.*, admin.overview ...) are declared here as the console contract states
 * them, because they are written on other branches. After the merge every entry can come from
 * `AppRouter` and this table shrinks to the `Path` list.
 *
 * `call('admin.overview', input)` is the narrow wrapper: the path picks query or mutation, the
 * input type and the answer type. Failures are `TRPCClientError`s; `messageOf` turns one into the
 * server's sentence for the operator.
 */
import { TRPCClientError, createTRPCUntypedClient, httpBatchLink } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '../../../server/trpc/router';

type In = inferRouterInputs<AppRouter>['admin'];
type Out = inferRouterOutputs<AppRouter>['admin'];

export type Role = 'viewer' | 'moderator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'moderator', 'admin'];
export type State = 'IDLE' | 'WAITING' | 'CONNECTING' | 'IN_CALL' | 'DISCONNECTING';
export const STATES: readonly State[] = ['IDLE', 'WAITING', 'CONNECTING', 'IN_CALL', 'DISCONNECTING'];

export interface Operator {
  id: string;
  name: string;
  role: Role;
}
export interface OperatorRow extends Operator {
  createdAt: string;
  disabledAt: string | null;
  lastLoginAt: string | null;
}
export interface OperatorAction {
  id: string;
  at: string;
  operator: string;
  role: Role;
  action: string;
  target: string | null;
  input: unknown;
  outcome: 'pending' | 'ok' | 'error';
  errorCode: string | null;
}
export interface Switches {
  stopMatching: boolean;
  textOnly: boolean;
  tightLimits: boolean;
  updatedAt: number | null;
  updatedBy: string | null;
  reason: string | null;
}
export type SwitchName = 'stopMatching' | 'textOnly' | 'tightLimits';
export interface Overview {
  at: number;
  online: number;
  pools: { pool: string; byState: Record<State, number>; queueDepth: number; paused: boolean }[];
  waitP50Ms: number | null;
  waitP95Ms: number | null;
  matchesPerMinute: number;
  avgCallSeconds: number | null;
  breakers: { dependency: string; state: string; since: number | null; history: { at: number; from: string; to: string }[] }[];
  errorsByCategory: Record<string, number>;
  auditLagSeconds: number | null;
  deadLetters: number | null;
  switches: Switches;
  series: { t: number[]; online: number[]; waiting: number[]; matches: number[] };
}
export interface FunnelCounts {
  matched: number;
  signalling: number;
  connected: number;
  missing: number;
  iceFailures: number;
  relayed: number;
}
export interface Funnel {
  buckets: (FunnelCounts & { t: number })[];
  totals: FunnelCounts & { missingShare: number | null; relayedShare: number | null };
}
export interface LookupHit {
  userId: string;
  name: string;
  pool: string;
  state: State;
  matchId: string | null;
  since: number;
}
export interface UserDetail {
  /** The live Redis view, or null when the person is not in any pool now. */
  user: Out['user'] | null;
  /** Their last 50 state transitions and 20 matches, newest first. */
  history: Out['audit']['user'];
  matches: NonNullable<Out['audit']['match']['match']>[];
  moderation: Out['moderation']['history'];
  reportsAbout: number;
  reportsBy: number;
  banned: { until: number | null; reason: string } | null;
  lowTrust: boolean;
}
export interface Recovery {
  recoveries: { at: number | string; failureType: string; strategy: string; outcome: string; durationMs: number }[];
  checkpoints: { at: number | string; id: string; users: number; matches: number }[];
}

type Q<I, O> = { kind: 'query'; input: I; output: O };
type M<I, O> = { kind: 'mutation'; input: I; output: O };
type Ok = { ok: true };

export interface Procedures {
  'operators.me': Q<void, Operator | null>;
  'operators.login': M<{ name: string; password: string }, Operator>;
  'operators.logout': M<void, Ok>;
  'operators.list': Q<void, OperatorRow[]>;
  'operators.create': M<{ name: string; password: string; role: Role }, Operator>;
  'operators.update': M<{ id: string; role?: Role; disabled?: boolean }, unknown>;
  'operators.actions': Q<{ limit?: number; operatorId?: string; target?: string }, OperatorAction[]>;
  'admin.overview': Q<void, Overview>;
  'admin.funnel': Q<{ minutes?: number }, Funnel>;
  'admin.lookup': Q<{ query: string }, LookupHit[]>;
  'admin.userDetail': Q<{ userId: string }, UserDetail>;
  'admin.endMatch': M<{ matchId: string; reason: string }, unknown>;
  'admin.disconnect': M<{ userId: string; reason: string }, unknown>;
  'admin.switches.get': Q<void, Switches>;
  'admin.switches.set': M<Partial<Record<SwitchName, boolean>> & { reason: string }, Switches>;
  'admin.recovery': Q<void, Recovery>;
  'admin.privacy.export': Q<{ userId: string }, unknown>;
  'admin.privacy.erase': M<{ userId: string; reason: string }, { removed: Record<string, number>; pseudonym: string }>;
  'admin.force': M<{ userId: string; to: State; reason: string }, unknown>;
  'admin.audit.match': Q<{ matchId: string }, Out['audit']['match']>;
  'admin.pools.pause': M<{ pool: string; reason: string; minutes?: number }, Ok>;
  'admin.pools.resume': M<{ pool: string }, Ok>;
  'admin.moderation.reports': Q<In['moderation']['reports'], Out['moderation']['reports']>;
  'admin.moderation.decide': M<{ reportId: string; decision: 'dismiss' | 'ban'; reason: string; durationMs?: number | null }, unknown>;
  'admin.moderation.appeals': Q<In['moderation']['appeals'], Out['moderation']['appeals']>;
  'admin.moderation.decideAppeal': M<{ appealId: string; upheld: boolean; reason: string }, unknown>;
  'admin.moderation.warn': M<{ userId: string; message: string }, unknown>;
  'admin.moderation.ban': M<{ userId: string; durationMs: number | null; reason: string }, unknown>;
  'admin.moderation.lift': M<{ userId: string; reason: string }, unknown>;
  'admin.deadLetters.list': Q<In['deadLetters']['list'], Out['deadLetters']['list']>;
  'admin.deadLetters.retry': M<{ id: string }, unknown>;
  'admin.deadLetters.discard': M<{ id: string }, unknown>;
}
export type Path = keyof Procedures;
export type InputOf<P extends Path> = Procedures[P]['input'];
export type OutputOf<P extends Path> = Procedures[P]['output'];

export function createAdminApi(url = '/trpc') {
  const client = createTRPCUntypedClient({ links: [httpBatchLink({ url })] });
  /** Queries and mutations are told apart by the table above, so a wrong path or input fails to compile. */
  async function call<P extends Path>(path: P, ...input: InputOf<P> extends void ? [] : [InputOf<P>]): Promise<OutputOf<P>> {
    const kind = KINDS[path];
    return kind === 'query' ? client.query(path, input[0]) : client.mutation(path, input[0]);
  }
  return { call };
}
export type AdminApi = ReturnType<typeof createAdminApi>;

const KINDS: { [P in Path]: Procedures[P]['kind'] } = {
  'operators.me': 'query',
  'operators.login': 'mutation',
  'operators.logout': 'mutation',
  'operators.list': 'query',
  'operators.create': 'mutation',
  'operators.update': 'mutation',
  'operators.actions': 'query',
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
};

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
