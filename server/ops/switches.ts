/**
 * The kill switches (admin.switches): three settings an operator flips for the whole deployment.
 *
 *   stopMatching  no new pairs anywhere; waiting people keep their places and are told once
 *                 (match-lib.lua try_match, through the store's match mode)
 *   textOnly      new matches are text only: no LiveKit room or token, no ICE servers, no signalling
 *                 (`matched` says mode 'text'; the client shows the chat)
 *   tightLimits   every rate-limited action costs SWITCH_TIGHT_FACTOR points (safety/rate-limits.ts)
 *
 * They live in one Redis hash (`<root>:{ops}:switches`); every process reads it every
 * SWITCHES_POLL_MS (the one scheduler, PeriodicJob) and applies what it read, so a switch holds
 * everywhere within that interval. The process that sets one applies it at once. A Redis that
 * cannot be read leaves the last switches read in force.
 */
import { Gauge, type Registry } from 'prom-client';
import type { RedisClient } from '../infra/redis';
import type { Logger } from '../infra/logger';
import { USER_MESSAGES } from '../resilience/messages';
import type { Clock } from '../shared/clock';
import { PeriodicJob, type JobReporter } from '../shared/periodic';
import type { MatchMode } from '../state/store';
import type { OpsKeys } from './keys';

export interface Switches {
  stopMatching: boolean;
  textOnly: boolean;
  tightLimits: boolean;
  updatedAt: number | null;
  updatedBy: string | null;
  reason: string | null;
}

const NAMES = ['stopMatching', 'textOnly', 'tightLimits'] as const;
export type SwitchChange = Partial<Pick<Switches, (typeof NAMES)[number]>>;

const OFF: Switches = { stopMatching: false, textOnly: false, tightLimits: false, updatedAt: null, updatedBy: null, reason: null };
const STOP_NOTICE = { code: 'MATCHING_PAUSED', message: USER_MESSAGES.MATCHING_PAUSED };

export interface SwitchOptions {
  pollMs: number;
  tightFactor: number;
  log: Logger;
  onJobRun?: JobReporter;
}

export class KillSwitches {
  private current: Switches = OFF;
  /** When stopMatching was last turned on (names the stop, so each waiting person is told once per stop). */
  private stopSince = 0;
  private readonly job: PeriodicJob<void>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: OpsKeys,
    private readonly clock: Clock,
    private readonly opts: SwitchOptions,
  ) {
    this.job = new PeriodicJob({ name: 'switches', intervalMs: opts.pollMs, runAtStart: true, log: opts.log, onRun: opts.onJobRun }, () => this.refresh());
  }

  /** The switches in force on this process. */
  get(): Switches {
    return this.current;
  }

  /** The store's match mode with the switches applied (the rooms domain's `base` otherwise). */
  matchMode(base: MatchMode): MatchMode {
    const s = this.current;
    if (!s.stopMatching && !s.textOnly) return base;
    return {
      ...(s.textOnly ? { mode: 'text' as const, defer: false } : base),
      ...(s.stopMatching ? { stop: { since: this.stopSince, notice: STOP_NOTICE } } : {}),
    };
  }

  /** Points one rate-limited action costs now. */
  cost(): number {
    return this.current.tightLimits ? this.opts.tightFactor : 1;
  }

  /** Reads the switches from Redis and applies them here. */
  async refresh(): Promise<void> {
    this.apply(await this.redis.hgetall(this.keys.switches()));
  }

  /** Changes the named switches for every process; applied here at once. */
  async set(change: SwitchChange, actor: string, reason: string): Promise<Switches> {
    const now = this.clock.now();
    const fields: Record<string, string | number> = { updatedAt: now, updatedBy: actor, reason };
    for (const k of NAMES) if (change[k] !== undefined) fields[k] = change[k] ? '1' : '0';
    // A stop turned on (again) is a new stop: everyone waiting hears of it once more.
    if (change.stopMatching === true && !this.current.stopMatching) fields.stopSince = now;
    await this.redis.hset(this.keys.switches(), fields);
    await this.refresh();
    return this.current;
  }

  private apply(h: Record<string, string>): void {
    this.stopSince = Number(h.stopSince ?? 0);
    this.current = {
      stopMatching: h.stopMatching === '1',
      textOnly: h.textOnly === '1',
      tightLimits: h.tightLimits === '1',
      updatedAt: h.updatedAt ? Number(h.updatedAt) : null,
      updatedBy: h.updatedBy ?? null,
      reason: h.reason ?? null,
    };
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }
}

/**
 * kill_switch{name}: 1 while the switch is on, as this process holds it (read at scrape). Every
 * process reports its own view, which follows Redis within SWITCHES_POLL_MS: aggregate with max.
 */
export function observeSwitches(registry: Registry, switches: KillSwitches): void {
  new Gauge({
    name: 'kill_switch',
    help: 'Kill switches as this process holds them: 1 on, 0 off (stopMatching, textOnly, tightLimits; use max over processes)',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      const s = switches.get();
      for (const name of NAMES) this.set({ name }, s[name] ? 1 : 0);
    },
  });
}
