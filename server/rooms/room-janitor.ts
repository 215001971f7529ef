/**
 * RoomJanitor: one timer per process, one pass over every pool per tick (never a timer per room).
 *
 *   1. Rooms whose match is over: however the match ended (skip, end, disconnect grace, CONNECTING
 *      deadline, rollback, admin), the state scripts mark its hash ended; any room of ours still
 *      creating/active for it is ended. (Skip/end also take the fast path through
 *      MatchService.leave, so this is the net under every other way a match can end.) A room the
 *      match was announced with but still marked creating (its setup died) becomes active.
 *   2. Deletions whose retry time has come (RoomDeleter).
 *   3. Departure checks whose grace has run out. A participant of an active room left (or their
 *      connection dropped, or the room vanished under them) and got `rejoinGraceMs` to come back,
 *      as LiveKit's client reconnects on its own (RoomEvents and the reconciler schedule the check).
 *      Now LiveKit is asked whether they are in the room. Still gone: the match ends for disconnect
 *      (store.leave: they rest, the partner goes to the front of the queue) and the room is ended.
 *      Back, or the match already over: nothing happens. When LiveKit cannot be asked (breaker
 *      open, errors), the check stays claimed and is re-offered when the lease runs out: we never
 *      end a call because *we* could not reach LiveKit.
 * Several processes may run it at once: every step is a compare-and-set or a leased claim, and the
 * queues (deletions, departure checks) are durable, so they survive a restart.
 */
import type { Logger } from '../infra/logger';
import type { StateStore } from '../state/store';
import { errorMessage } from './failures';
import type { LiveKitGateway } from './livekit-gateway';
import type { RoomDeleter } from './room-deleter';
import type { RoomRecord, RoomRecords } from './room-records';
import type { RoomService } from './room-service';
import { ignoreNotInMatch, isMatchOn, isMember } from './rules';
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
    private readonly gateway: LiveKitGateway | undefined,
    private readonly opts: { intervalMs: number; leaseMs: number; onJobRun?: JobReporter },
    private readonly log: Logger,
  ) {
    this.job = new PeriodicJob({ name: 'room janitor', intervalMs: opts.intervalMs, log, onRun: opts.onJobRun }, () => this.pass());
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
        total.departed += await this.departuresDue(pool);
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

  /** Run the departure checks of a pool whose time has come; returns how many matches ended. */
  private async departuresDue(pool: string): Promise<number> {
    const due = await this.records.claimDue(this.records.departures(pool), this.opts.leaseMs);
    let ended = 0;
    for (const item of due) {
      const cut = item.indexOf('|');
      if (await this.checkDeparture(pool, item.slice(0, cut), item.slice(cut + 1))) ended++;
    }
    return ended;
  }

  private async checkDeparture(pool: string, room: string, uid: string): Promise<boolean> {
    const rec = await this.records.get(pool, room);
    const m = rec && (await this.rooms.matchInfo(pool, rec.matchId));
    if (!rec || !m || rec.status !== 'active' || !isMember(rec, uid) || !isMatchOn(m) || !this.gateway) {
      await this.records.cancelDeparture(pool, room, uid);
      return false;
    }
    let present: boolean;
    try {
      present = (await this.gateway.listParticipants(room)).some((p) => p.identity === uid);
    } catch (err) {
      this.log.warn({ room, uid, err: errorMessage(err) }, 'cannot check on a departed participant yet');
      return false;
    }
    if (!present) {
      this.log.info({ pool, room, uid, matchId: rec.matchId }, 'participant did not come back; ending the match for disconnect');
      await this.store.leave({ uid, pool, reason: 'disconnect', matchId: rec.matchId }).catch(ignoreNotInMatch);
      await this.deleter.end(pool, room, 'disconnect');
    }
    await this.records.cancelDeparture(pool, room, uid);
    return !present;
  }
}
