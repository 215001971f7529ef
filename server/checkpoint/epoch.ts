/**
 * EpochGuard: notices when Redis comes back empty (a restart without persistence, a failover to
 * an empty replica) and rebuilds active users from the latest checkpoints within seconds.
 *
 * `<root>:epoch` is written when a deployment first starts. Whenever a Redis connection becomes
 * ready again, the guard checks it: missing means the data is gone. One process wins the
 * rebuild (SET NX on the new epoch); it restores users (see restore.ts), records the recovery
 * (duration, counts) and everyone carries on.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import type { StateStore } from '../state/store';
import { restoreUsers } from './restore';
import type { Checkpointer } from './snapshot';

export interface RecoveryRecord {
  failureType: 'redis_data_loss';
  strategy: 'restore_from_checkpoint';
  outcome: 'restored' | 'failed';
  durationMs: number;
  context: Record<string, unknown>;
}

export class EpochGuard {
  private checking: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly store: StateStore,
    private readonly checkpoints: Checkpointer,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly opts: { lookbackMs: number },
    private readonly onRecovery: (r: RecoveryRecord) => Promise<void> | void,
  ) {}

  private get key(): string {
    return `${this.store.keys.root}:epoch`;
  }

  /** Watch the connection: every time it is ready again, check the epoch. */
  watch(): void {
    this.redis.on('ready', () => void this.check());
  }

  /** First start: create the epoch. Later: detect data loss and rebuild. */
  check(): Promise<void> {
    return (this.checking ??= this.run().finally(() => (this.checking = null)));
  }

  private async run(): Promise<void> {
    if ((await this.redis.exists(this.key)) === 1) return;
    const fresh = `${this.clock.now()}-${randomUUID()}`;
    if ((await this.redis.set(this.key, fresh, 'NX')) !== 'OK') return; // another process rebuilds
    const since = new Date(this.clock.now() - this.opts.lookbackMs);
    const started = this.clock.now();
    try {
      const snaps = await this.checkpoints.latestUsersSince(since);
      if (snaps.length === 0) return; // a brand-new deployment: nothing to restore
      const r = await restoreUsers(this.redis, this.store, snaps, 'recovery:epoch');
      const durationMs = this.clock.now() - started;
      this.log.warn({ ...r, durationMs }, 'Redis came back empty: active users rebuilt from checkpoints');
      await this.onRecovery({ failureType: 'redis_data_loss', strategy: 'restore_from_checkpoint', outcome: 'restored', durationMs, context: r });
    } catch (err) {
      this.log.error({ err }, 'rebuilding Redis from checkpoints failed');
      await this.onRecovery({
        failureType: 'redis_data_loss',
        strategy: 'restore_from_checkpoint',
        outcome: 'failed',
        durationMs: this.clock.now() - started,
        context: { error: String(err) },
      });
    }
  }
}
