/**
 * Acks: a drain's acknowledgements (XACK + XDEL, outbox-stream.ts), pipelined with its next read
 * rather than awaited. One that fails is remembered and sent again first thing next round, so a
 * committed entry is never left pending for a claim to apply again.
 */
import type { RedisClient } from '../infra/redis';
import type { Keys } from '../state/keys';
import { ackAndDelete } from './outbox-stream';

export class Acks {
  /** Committed or dead-lettered, but the XACK failed: by pool. */
  private readonly failed = new Map<string, Set<string>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly onError?: (e: unknown) => void,
  ) {}

  send(pool: string, ids: string[]): void {
    if (ids.length === 0) return;
    const p = ackAndDelete(this.redis, this.keys.outbox(pool), ids)
      .catch((e: unknown) => {
        let set = this.failed.get(pool);
        if (!set) this.failed.set(pool, (set = new Set()));
        for (const id of ids) set.add(id);
        this.onError?.(e);
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Sends the failed ones again; throws if Redis still refuses. */
  async retryFailed(): Promise<void> {
    for (const [pool, set] of this.failed) {
      await ackAndDelete(this.redis, this.keys.outbox(pool), [...set]);
      this.failed.delete(pool);
    }
  }

  /** Resolves once every ack sent so far has succeeded or failed. */
  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}
