/** The services the composition root builds once and hands to routers through the context. */
import type { RedisClient } from './infra/redis';
import type { WebSocket } from 'ws';
import type { Config } from './config';
import type { EventHub } from './events/hub';
import type { Logger } from './infra/logger';
import type { Metrics } from './infra/metrics';
import type { Database } from './infra/postgres';
import type { MatchService } from './match/service';
import type { PresenceService } from './presence/service';
import type { Rooms } from './rooms';
import type { DeadLetterQueue } from './audit/dead-letter-queue';
import type { AuditRecorder } from './audit/recorder';
import type { Resilience } from './resilience';
import type { Checkpointer } from './checkpoint/snapshot';
import type { Clock } from './shared/clock';
import type { StateStore } from './state/store';
import type { Refusals } from './trpc/refusals';
import type { RateLimits } from './safety/rate-limits';
import type { Reports } from './safety/reports';
import type { Moderation } from './safety/moderation';
import type { Sanctions } from './safety/sanctions';
import type { Challenges } from './safety/challenges';
import type { OnlineStats } from './stats/online';
import type { Ops } from './ops';
import type { Operators } from './operators/service';
import type { OperatorActions } from './operators/actions';

export interface Services {
  cfg: Config;
  clock: Clock;
  log: Logger;
  sessionSecret: string;
  redis: RedisClient;
  database: Database;
  store: StateStore;
  hub: EventHub;
  match: MatchService;
  presence: PresenceService<WebSocket>;
  checkpoints: Checkpointer;
  rooms: Rooms;
  audit: AuditRecorder;
  /** Audit records the drain gave up on, for admin.deadLetters. */
  deadLetters: DeadLetterQueue;
  resilience: Resilience;
  metrics: Metrics;
  /** Refusals at the edge: counted and sampled, not audited (trpc/refusals.ts). */
  refusals: Refusals;
  /** People connected and waiting, cached per process (stats/online.ts). */
  stats: OnlineStats;
  /** How often one person or address may do each thing (safety/rate-limits.ts). */
  limits: RateLimits;
  /** Proof-of-work challenges for suspicious callers (safety/challenges.ts). */
  challenges: Challenges;
  /** Reports of partners, with their evidence (safety/reports.ts). */
  reports: Reports;
  /** Low trust and bans, by person, device and address (safety/sanctions.ts). */
  sanctions: Sanctions;
  /** The report queue, decisions and appeals (safety/moderation.ts). */
  moderation: Moderation;
  /** The operator console: kill switches, funnel, overview, people and privacy (server/ops/). */
  ops: Ops;
  /** Operator accounts and console sessions (operators/service.ts). */
  operators: Operators;
  /** Every operator mutation, recorded by the role procedures (operators/actions.ts). */
  operatorActions: OperatorActions;
}
