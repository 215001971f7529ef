/**
 * RoomJanitor: one timer per process, one pass over every pool per tick (never a timer per room).
 *
 *   1. Rooms whose match is over: however the match ended (skip, end, disconnect grace, CONNECTING
 *      deadline, rollback, admin), the state scripts mark its hash ended; any room of ours still
 *      creating/active for it is ended. (Skip/end also take the fast path through
 *      MatchService.leave, so this is the net under every other way a match can end.) A room the
 *      match was announced with but still marked creating (its setup died) becomes active.
 *   2. Deletions whose retry time has come (RoomDeleter).
 *   3. Departure checks whose grace has run out (Departures).
 * Several processes may run it at once: every step is a compare-and-set or a leased claim.
 */
import type { Logger } from '../infra/logger';
import type { StateStore } from '../state/store';
import type { Departures } from './departures';
import { errorMessage } from './failures';
import type { RoomDeleter } from './room-deleter';
import type { RoomRecord, RoomRecords } from './room-records';
import type { RoomService } from './room-service';
import { isMatchOn } from './rules';
import { PeriodicJob, type JobReporter } from '../shared/periodic';

const PAGE = 500; // records read per pipeline round trip

export interface JanitorPass {
  ended: number;
  retried: number;
  departed: number;
}

export class RoomJanitor {
  private readonly job: PeriodicJob<JanitorPass>;

  constructor(
    private readonly store: StateStore,
    private readonly records: RoomRecords,
    private readonly rooms: RoomService,
    private readonly deleter: RoomDeleter,
    private readonly departures: Departures,
    intervalMs: number,
    private readonly log: Logger,
    onJobRun?: JobReporter,
  ) {
    this.job = new PeriodicJob({ name: 'room janitor', intervalMs, log, onRun: onJobRun }, () => this.pass());
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One pass; a call while a pass runs joins it. */
  async tick(): Promise<JanitorPass> {
    return (await this.job.runNow()) ?? { ended: 0, retried: 0, departed: 0 };
  }

  private async pass(): Promise<JanitorPass> {
    const total: JanitorPass = { ended: 0, retried: 0, departed: 0 };
    try {
      for (const pool of await this.store.pools()) {
        total.ended += await this.endFinished(pool);
        total.retried += await this.deleter.retryDue(pool);
        total.departed += await this.departures.runDue(pool);
      }
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'room janitor pass failed');
    }
    return total;
  }

  private async endFinished(pool: string): Promise<number> {
    let ended = 0;
    for (let offset = 0; ; offset += PAGE) {
      const names = await this.records.indexed(pool, offset, PAGE);
      const recs = await this.records.many(pool, names);
      const live = recs.filter((r) => r?.status === 'creating' || r?.status === 'active') as RoomRecord[];
      const matches = await this.rooms.matchInfos(
        pool,
        live.map((r) => r.matchId),
      );
      for (const [i, rec] of live.entries()) {
        const m = matches[i]!;
        if (!isMatchOn(m)) {
          if (await this.deleter.end(pool, rec.room, `match_${m.status}`)) ended++;
        } else if (rec.status === 'creating' && m.room === rec.room) {
          // Announced, but the setup died before recording it: the room is in use.
          await this.records.setStatus(pool, rec.room, 'active', ['creating']);
        }
      }
      for (const [i, rec] of recs.entries()) if (!rec) await this.records.unindex(pool, names[i]!);
      if (names.length < PAGE) return ended;
    }
  }
}
