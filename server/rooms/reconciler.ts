/**
 * Reconciler: webhooks can be lost, so now and then our rooms and LiveKit's are compared and both
 * sides repaired.
 *
 *   LiveKit has a room_* we never made, forgot, or ended    -> end it (again)
 *   LiveKit has a room whose match is over                  -> end it
 *   a member is in the room                                 -> joined (cancels a departure check;
 *                                                              both in -> IN_CALL)
 *   a member of an in-call room is not in it                -> departure check after the grace
 *   anyone else is in the room                              -> removed
 *   we think a room is active and LiveKit does not have it  -> RoomService.repairMissing
 * Only rooms recorded before listRooms was asked count as missing, so a room created meanwhile
 * is never mistaken for a lost one.
 */
import type { Room } from 'livekit-server-sdk';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import { DEFAULT_POOL } from '../state/keys';
import type { StateStore } from '../state/store';
import { errorMessage } from './failures';
import type { LiveKitGateway } from './livekit-gateway';
import type { RoomDeleter } from './room-deleter';
import type { RoomRecord, RoomRecords } from './room-records';
import type { RoomService } from './room-service';
import { ROOM_PREFIX, ignoreNotInMatch, isMatchOn, isMember, isOver, poolFromMetadata } from './rules';
import { PeriodicJob, type JobReporter } from '../shared/periodic';

export interface ReconcileReport {
  livekitRooms: number;
  ended: number;
  joined: number;
  departures: number;
  removed: number;
  repaired: number;
}

export class Reconciler {
  private readonly job: PeriodicJob<ReconcileReport | null>;

  constructor(
    private readonly store: StateStore,
    private readonly records: RoomRecords,
    private readonly rooms: RoomService,
    private readonly deleter: RoomDeleter,
    private readonly gateway: LiveKitGateway,
    private readonly opts: { intervalMs: number; rejoinGraceMs: number; onJobRun?: JobReporter },
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.job = new PeriodicJob({ name: 'room reconciliation', intervalMs: opts.intervalMs, log, onRun: opts.onJobRun }, () => this.pass());
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One comparison; null when LiveKit could not be listed. A call while one runs joins it. */
  async run(): Promise<ReconcileReport | null> {
    return (await this.job.runNow()) ?? null;
  }

  private async pass(): Promise<ReconcileReport | null> {
    const asked = this.clock.now();
    let lkRooms: Room[];
    try {
      lkRooms = await this.gateway.listRooms();
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'cannot list LiveKit rooms; reconciliation skipped');
      return null;
    }
    const report: ReconcileReport = { livekitRooms: lkRooms.length, ended: 0, joined: 0, departures: 0, removed: 0, repaired: 0 };
    const present = new Set<string>();
    for (const lk of lkRooms) {
      if (!lk.name.startsWith(ROOM_PREFIX)) continue;
      present.add(lk.name);
      await this.isolated(lk.name, () => this.checkLiveKitRoom(lk, report));
    }
    for (const pool of await this.store.pools()) {
      for (let offset = 0; ; offset += 500) {
        const names = await this.records.indexed(pool, offset, 500);
        for (const rec of await this.records.many(pool, names)) {
          if (rec?.status === 'active' && !present.has(rec.room) && rec.createdAt < asked) {
            await this.isolated(rec.room, () => this.rooms.repairMissing(rec));
            report.repaired++;
          }
        }
        if (names.length < 500) break;
      }
    }
    return report;
  }

  /** One room's trouble (a LiveKit call failing for it) must not stop the pass for the others. */
  private async isolated(room: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.log.warn({ room, err: errorMessage(err) }, 'room not reconciled this pass');
    }
  }

  private async checkLiveKitRoom(lk: Room, report: ReconcileReport): Promise<void> {
    const pool = (await this.records.poolOf(lk.name)) ?? poolFromMetadata(lk.metadata);
    const rec = pool ? await this.records.get(pool, lk.name) : null;
    if (!rec || isOver(rec)) {
      if (await this.deleter.end(pool ?? DEFAULT_POOL, lk.name, rec ? 'still_open' : 'unknown_room', { reopen: true })) report.ended++;
      return;
    }
    if (rec.status === 'creating') return; // a setup in progress owns it
    const m = await this.rooms.matchInfo(rec.pool, rec.matchId);
    if (!isMatchOn(m)) {
      if (await this.deleter.end(rec.pool, rec.room, `match_${m.status}`)) report.ended++;
      return;
    }
    // A call with both of its two seats taken needs nothing: skip the ListParticipants call.
    if (m.status === 'active' && lk.numParticipants === 2) return;
    const inRoom = (await this.gateway.listParticipants(rec.room)).map((p) => p.identity);
    for (const identity of inRoom) {
      if (!isMember(rec, identity)) {
        await this.gateway.removeParticipant(rec.room, identity);
        report.removed++;
        continue;
      }
      await this.records.cancelDeparture(rec.pool, rec.room, identity);
      if (m.status === 'connecting') {
        await this.store.joined({ uid: identity, pool: rec.pool, matchId: rec.matchId }).catch(ignoreNotInMatch);
        report.joined++;
      }
    }
    if (m.status === 'active') report.departures += await this.scheduleMissing(rec, inRoom);
  }

  private async scheduleMissing(rec: RoomRecord, inRoom: string[]): Promise<number> {
    let n = 0;
    for (const uid of [rec.a, rec.b]) {
      if (inRoom.includes(uid)) continue;
      await this.records.scheduleDeparture(rec.pool, rec.room, uid, this.clock.now() + this.opts.rejoinGraceMs);
      n++;
    }
    return n;
  }
}
