/**
 * EpochGuard: notices when Redis comes back empty (a restart without persistence, a failover to
 * an empty replica) and rebuilds active users from the latest checkpoints within seconds.
 *
 * `<root>:epoch` is written when a deployment first starts. Whenever the command connection is
 * ready again, the guard checks it: missing means the data is gone. One process wins the rebuild
 * (SET NX of a `rebuilding` claim with a lease); it restores users (restore.ts) with their
 * versions continuing from the audit trail, writes the new epoch and records the recovery. The
 * others wait for the claim to turn into an epoch (or for its lease to run out, if the winner died).
 *
 * The gate: from the moment the connection drops until the check after the reconnect is done,
 * state scripts are held (`hold`, wrapped around every script by the composition root), so no
 * call lands on an empty Redis before the rebuild, and no rebuild overwrites what a user did
 * meanwhile. ioredis would otherwise send the calls queued during the outage the moment it
 * reconnects, before any 'ready' listener runs. A held call waits at most `holdMs` (a command
 * timeout), then fails with RedisNotReadyError, a transient Redis failure like a timeout. A
 * call held across a data loss is not run at all (HeldAcrossDataLossError): it was decided on
 * state that is gone (the caller read it before the crash), so the caller must read again and
 * retry. The rebuild's own scripts pass the gate and the Redis breaker: they run on the store
 * without its guard (`store.withGuard`), since Redis has just answered and a breaker still open
 * from the outage must not refuse the recovery itself. (Not an AsyncLocalStorage: enabling one
 * turns on promise hooks for the whole process, a cost on every promise from then on.)
 *
 * After a data loss the epoch records when it happened; for IDLE_TTL_MS after it, users first
 * seen again get their versions from the audit trail (version-floors.ts).
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../infra/redis';
import type { RecoveryInput } from '../audit/recorder';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import type { StateStore } from '../state/store';
import { restoreUsers } from './restore';
import type { Checkpointer } from './snapshot';
import type { FloorWindow } from './version-floors';
import { Outcome, RecoveryFailure, RecoveryStrategy } from '../resilience/model';

export interface EpochOptions {
  /** Checkpoints older than this are not restored (CHECKPOINT_LOOKBACK_MS). */
  lookbackMs: number;
  /** How long a held script waits for the check before failing (REDIS_COMMAND_TIMEOUT_MS). */
  holdMs: number;
  /** IDLE_TTL_MS: how long after a data loss returning users get their versions from the audit trail. */
  idleTtlMs: number;
}

/** A state script held at the gate longer than `holdMs`: Redis is back but its data is not checked yet. */
export class RedisNotReadyError extends Error {
  override readonly name = 'RedisNotReadyError';
  constructor(waitedMs: number) {
    super(`Redis reconnected, but its data was not checked within ${waitedMs} ms`);
  }
}

/** A state script held at the gate while Redis turned out to have lost its data: not run, not to be retried as is. */
export class HeldAcrossDataLossError extends Error {
  override readonly name = 'HeldAcrossDataLossError';
  constructor() {
    super('Redis lost its data while this call waited for it; the call was not run');
  }
}

/**
 * What the composition root needs of an epoch guard: EpochGuard on one Redis, PoolEpochs
 * (pool-epochs.ts) on a cluster.
 */
export interface DataGuard extends FloorWindow {
  /** First start: create the epoch. Later: detect data loss and rebuild. */
  check(): Promise<void>;
  /** Check again whenever the connection is back. */
  watch(): void;
  stop(): void;
  /** Run a state script once Redis's data is known to be this deployment's. */
  hold<T>(fn: () => Promise<T>): Promise<T>;
  /** A pool's scripts refused a call as unchecked (only on a cluster: see lib.lua begin_call). */
  checkPool(pool: string): Promise<void>;
}

const REBUILDING = 'rebuilding';
const LOST_AT = /;lost=(\d+)/;
// A rebuild claim lives this long unless the rebuild finishes first: far longer than any rebuild.
const LEASE_MS = 60_000;
// While another process rebuilds, look again this often.
const POLL_MS = 50;
// A check that failed on a connection that is still up is tried again after this long.
const RETRY_MS = 200;

export class EpochGuard implements DataGuard {
  private checking: Promise<void> | null = null;
  /** Bumped on every disconnect: a check only opens the gate if no disconnect happened during it. */
  private generation = 0;
  /** null: open. Otherwise the promise that resolves when the gate opens. */
  private closed: { promise: Promise<void>; open: () => void } | null = null;
  /** When the data was last lost (from the epoch; 0: never). */
  private lostAt = 0;
  private readonly token = randomUUID();
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly store: StateStore,
    private readonly checkpoints: Checkpointer,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: EpochOptions,
    private readonly onRecovery: (r: RecoveryInput) => Promise<void> | void,
  ) {
    this.close(); // nothing runs before the first check
  }

  private get key(): string {
    return `${this.store.keys.root}:epoch`;
  }

  /** Watch the connection: close the gate when it drops, check the epoch every time it is ready again. */
  watch(): void {
    this.redis.on('close', () => this.close());
    this.redis.on('ready', () => this.recheck());
  }

  /** Stop retrying a failed check (shutdown). */
  stop(): void {
    clearTimeout(this.retryTimer);
  }

  /** Run `fn` once Redis's data is known to be this deployment's (at once when the gate is open). */
  hold<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.closed) return fn();
    const lostAt = this.lostAt;
    return this.checked().then(() => {
      if (this.lostAt !== lostAt) throw new HeldAcrossDataLossError();
      return fn();
    });
  }

  /** Resolves when the gate is open; rejects with RedisNotReadyError after `holdMs`. */
  checked(): Promise<void> {
    const gate = this.closed;
    if (!gate) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new RedisNotReadyError(this.opts.holdMs)), this.opts.holdMs);
      void gate.promise.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Never asked: on one Redis the scripts do not check pools (the whole Redis is checked above). */
  checkPool(): Promise<void> {
    return Promise.resolve();
  }

  floorsUntil(): number {
    return this.lostAt ? this.lostAt + this.opts.idleTtlMs : 0;
  }

  /** First start: create the epoch. Later: detect data loss and rebuild. Opens the gate when done. */
  check(): Promise<void> {
    return (this.checking ??= this.checkLoop().finally(() => (this.checking = null)));
  }

  private close(): void {
    this.generation++;
    if (this.closed) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.closed = { promise, open };
  }

  private openGate(): void {
    const gate = this.closed;
    this.closed = null;
    gate?.open();
  }

  private recheck(): void {
    clearTimeout(this.retryTimer);
    this.check().catch((err: unknown) => {
      this.log.warn({ err }, 'checking the Redis epoch failed; state scripts stay held');
      if (this.redis.status === 'ready') this.retryTimer = setTimeout(() => this.recheck(), RETRY_MS);
    });
  }

  private async checkLoop(): Promise<void> {
    for (;;) {
      const generation = this.generation;
      await this.run();
      if (generation === this.generation) return this.openGate();
      // The connection dropped while we checked: what we saw may be the old Redis. The next
      // 'ready' checks again, unless the connection is already back.
      if (this.redis.status !== 'ready') return;
    }
  }

  private async run(): Promise<void> {
    const started = this.clock.now();
    for (;;) {
      const value = await this.redis.get(this.key);
      if (value !== null && !value.startsWith(REBUILDING)) {
        this.lostAt = Number(LOST_AT.exec(value)?.[1] ?? 0);
        return;
      }
      if (value !== null && !value.includes(this.token)) {
        // Another process is rebuilding: wait for its epoch (or for its claim to lapse).
        await new Promise((r) => setTimeout(r, POLL_MS));
        continue;
      }
      // Missing (the data is gone), or our own claim from a rebuild the connection cut short.
      const claim = `${REBUILDING};owner=${this.token};at=${this.clock.now()}`;
      const won = value === null ? await this.redis.set(this.key, claim, 'PX', LEASE_MS, 'NX') : await this.redis.set(this.key, claim, 'PX', LEASE_MS, 'XX');
      if (won !== 'OK') continue;
      await this.rebuild(started);
      return;
    }
  }

  private async rebuild(started: number): Promise<void> {
    const audit = (outcome: Outcome, context: Record<string, unknown>) =>
      this.onRecovery({
        failureType: RecoveryFailure.RedisDataLoss,
        strategy: RecoveryStrategy.RestoreFromCheckpoint,
        outcome,
        durationMs: this.clock.now() - started,
        context,
      });
    const since = new Date(this.clock.now() - this.opts.lookbackMs);
    const epoch = `${this.clock.now()}-${randomUUID()}`;
    try {
      const snaps = await this.checkpoints.latestUsersSince(since);
      // A deployment with no audit trail yet starts from nothing: no loss to speak of.
      if (snaps.length === 0 && !(await this.checkpoints.hasHistory())) {
        await this.redis.set(this.key, epoch);
        this.lostAt = 0;
        return;
      }
      const floors = await this.checkpoints.lastVersions(snaps.map((s) => s.userId));
      const r = snaps.length
        ? await restoreUsers(
            this.redis,
            this.store.withGuard((_pool, fn) => fn()),
            snaps,
            'recovery:epoch',
            floors,
          )
        : { restored: 0, reset: 0 };
      await this.markLost(epoch);
      // Audited even when no checkpoint was recent enough to rebuild anyone: the loss happened
      // (calls in progress ended), and versions still carry on from the audit trail.
      this.log.warn(
        { ...r, checkpoints: snaps.length, durationMs: this.clock.now() - started },
        snaps.length ? 'Redis came back empty: active users rebuilt from checkpoints' : 'Redis came back empty: no recent checkpoint, nobody to rebuild',
      );
      await audit(Outcome.Recovered, { ...r, checkpoints: snaps.length });
      if (snaps.length === 0) return;
      // The restored pools get their background work back at once (the active set was lost too);
      // the cleanup job does the same on its next run if this fails (the Redis breaker may be open).
      const pools = snaps.map((s) => s.pool);
      await this.store.active.refresh([...new Set(pools)]).catch((err: unknown) => this.log.warn({ err }, 'reactivating restored pools failed'));
    } catch (err) {
      this.log.error({ err }, 'rebuilding Redis from checkpoints failed');
      // Whatever happened, the others must not wait for a rebuild that is over; versions still carry over.
      await this.markLost(epoch).catch(() => undefined);
      await audit(Outcome.Failed, { error: String(err) });
    }
  }

  /** The new epoch, marked with the time the data was lost (read by every process's check). */
  private async markLost(epoch: string): Promise<void> {
    const now = this.clock.now();
    await this.redis.set(this.key, `${epoch};lost=${now}`);
    this.lostAt = now;
  }
}
