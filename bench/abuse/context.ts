/** What every attack is given by bench/abuse/attacker.ts, and its name in the report. */
import type { Tally } from './pace';

export interface AttackerConfig {
  attack: AttackId;
  /** The server, e.g. http://127.0.0.1:40123. */
  url: string;
  /** The servers' SESSION_SECRET: attackers mint their own session tokens. */
  secret: string;
  /** Requests (or sockets, or subscriptions) per second. */
  rate: number;
  maxInflight: number;
  /** The colluding signallers' queue language (the honest users stay in the default pool). */
  language: string;
  /** Sockets attack f keeps open at once. */
  holdSockets: number;
  /** How long attack c's SSE streams stay open. */
  sseAbortMs: number;
  /** The loopback address this attacker connects from (see ./addresses.ts). */
  sourceAddress: string;
}

export interface AttackContext extends AttackerConfig {
  signal: AbortSignal;
  tally: Tally;
}

/**
 * An attack prepares what it needs before the attack window (sessions, a matched pair: an
 * attacker brings them along) and returns the attack itself, which runs until `ctx.signal` aborts.
 */
export type Attack = (ctx: AttackContext) => AttackRun | Promise<AttackRun>;
export type AttackRun = () => Promise<void>;

export const ATTACK_NAMES = {
  a: 'malformed-http',
  b: 'pool-spray',
  c: 'sse-abort',
  d: 'big-signal',
  e: 'subscription-flood',
  f: 'idle-sockets',
  g: 'invalid-calls',
  h: 'unsigned-webhooks',
  x: 'control',
} as const;
export type AttackId = keyof typeof ATTACK_NAMES;

export function isAttackId(s: string): s is AttackId {
  return Object.hasOwn(ATTACK_NAMES, s);
}
