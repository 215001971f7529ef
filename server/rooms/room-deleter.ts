/**
 * RoomDeleter: ends rooms, and never forgets one.
 *
 * Ending a room is one compare-and-set (creating|active -> terminating) that also puts the room
 * on its pool's durable deletion queue with a lease, before LiveKit is asked. Whoever wins the
 * compare-and-set makes the first attempt at once; skip, end, the janitor and a webhook may all
 * ask for the same room, and only one of them calls DeleteRoom. A failed attempt (after the
 * policy's own retries) is rescheduled with capped exponential backoff; a process that dies
 * mid-attempt leaves the item to be claimed again when the lease runs out. The record stops
 * expiring while its deletion is pending, and only DeleteRoom succeeding (or LiveKit saying the
 * room is gone) marks it terminated. After `deleteMaxAttempts` failed attempts the deletion is
 * parked as a dead letter (admin.deadLetters: an operator retries or discards it) and leaves the
 * queue; until the letter is stored it stays queued.
 *
 * DeleteRoom disconnects everyone in the room (participant_left, ROOM_DELETED), so no separate
 * RemoveParticipant is needed; an old token that rejoins (LiveKit auto-creates rooms on join) is
 * caught by the webhook and the reconciler, which end the room again (`reopen`).
 */
import type { Logger } from '../infra/logger';
import { exponentialDelay } from '../resilience/backoff';
import type { Clock } from '../shared/clock';
import { errorMessage, isUnavailable } from './failures';
import type { LiveKitGateway } from './livekit-gateway';
import type { RoomsOptions } from './options';
import type { RoomRecords, RoomStatus } from './room-records';

type DeleterOptions = Pick<RoomsOptions, 'deleteRetryBaseMs' | 'deleteRetryMaxMs' | 'deleteMaxAttempts' | 'leaseMs'>;

/** A room deletion given up on, for the dead-letter queue. */
export interface ParkedDeletion {
  pool: string;
  room: string;
  error: string;
  attempts: number;
}

/** The dead-letter source of room deletions. */
export const ROOM_DELETION = 'room_deletion';

export class RoomDeleter {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly records: RoomRecords,
    private readonly gateway: LiveKitGateway | undefined,
    private readonly opts: DeleterOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Stores a deletion given up on (the dead-letter queue); without it deletions retry for good. */
    private readonly park?: (d: ParkedDeletion) => Promise<void>,
  ) {}

  /** admin.deadLetters.retry of a parked deletion: one attempt now; null when the room is gone, else why not. */
  async retryParked(pool: string, room: string): Promise<string | null> {
    if (!this.gateway) return 'LiveKit is not configured';
    try {
      await this.gateway.deleteRoom(room);
    } catch (err) {
      return errorMessage(err);
    }
    await this.records.setStatus(pool, room, 'terminated', ['terminating']);
    this.log.info({ pool, room }, 'parked room deleted');
    return null;
  }

  /**
   * End `room` of `pool`: mark it terminating, queue its deletion and make the first attempt.
   * `reopen`: the room came back (a rejoin re-created it): end it again even if it was already
   * terminated, or is terminating (an attempt in flight may have deleted it just before it came back).
   * Returns true when this call started the ending.
   */
  async end(pool: string, room: string, reason: string, opts: { reopen?: boolean } = {}): Promise<boolean> {
    const from: Array<RoomStatus | 'none'> = ['creating', 'active', 'none', ...(opts.reopen ? (['terminating', 'terminated'] as const) : [])];
    const r = await this.records.setStatus(pool, room, 'terminating', from, { room, pool, endReason: reason }, this.clock.now() + this.opts.leaseMs);
    if (!r.applied) return false;
    this.log.info({ pool, room, reason, previous: r.previous }, 'room ending');
    await this.track(this.attempt(pool, room));
    return true;
  }

  /** Retry the deletions of a pool whose time has come. */
  async retryDue(pool: string): Promise<number> {
    const due = await this.records.claimDue(this.records.deletes(pool), this.opts.leaseMs);
    await Promise.all(due.map((room) => this.track(this.attempt(pool, room))));
    return due.length;
  }

  /** Resolves when every attempt started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async attempt(pool: string, room: string): Promise<void> {
    try {
      if (!this.gateway) throw new Error('LiveKit is not configured');
      await this.gateway.deleteRoom(room);
    } catch (err) {
      const msg = errorMessage(err);
      const now = this.clock.now();
      const attempts = await this.records
        .deleteFailed(pool, room, msg, (n) => now + exponentialDelay(n, this.opts.deleteRetryBaseMs, this.opts.deleteRetryMaxMs))
        .catch(() => -1); // Redis down too: the lease re-offers the item later
      // Parked only after LiveKit itself failed: attempts refused by our breaker (LiveKit down) count, but never park.
      if (this.park && attempts >= this.opts.deleteMaxAttempts && !isUnavailable(err)) return this.giveUp(pool, room, msg, attempts);
      this.log.warn({ pool, room, attempts, err: msg }, 'room deletion failed; queued for retry');
      return;
    }
    // If Redis fails here the lease re-offers the item and the (idempotent) deletion runs again.
    await this.records.setStatus(pool, room, 'terminated', ['terminating']).then(
      () => this.log.info({ pool, room }, 'room deleted'),
      (err: unknown) => this.log.warn({ pool, room, err: errorMessage(err) }, 'room deleted but not yet recorded'),
    );
  }

  private async giveUp(pool: string, room: string, error: string, attempts: number): Promise<void> {
    try {
      await this.park!({ pool, room, error, attempts });
      await this.records.unqueueDeletion(pool, room);
      this.log.error({ pool, room, attempts, err: error }, 'room deletion given up; parked as a dead letter');
    } catch (err) {
      this.log.warn({ pool, room, err: errorMessage(err) }, 'room deletion could not be parked; it stays queued');
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }
}
