/**
 * Departures: a participant of an active room left (or their connection dropped, or the room
 * vanished under them). They get `rejoinGraceMs` to come back, as LiveKit's client reconnects on
 * its own; then LiveKit is asked whether they are in the room. Still gone: the match ends for
 * disconnect (store.leave: they rest, the partner goes to the front of the queue) and the room is
 * ended. Back, or the match already over: nothing happens.
 *
 * The checks are a durable queue (zset by due time), claimed with a lease, so they survive a
 * restart and run once across processes. When LiveKit cannot be asked (breaker open, errors), the
 * check stays claimed and is re-offered when the lease runs out: we never end a call because *we*
 * could not reach LiveKit.
 */
import type { Logger } from '../infra/logger';
import type { StateStore } from '../state/store';
import { errorMessage } from './failures';
import type { LiveKitGateway } from './livekit-gateway';
import type { RoomDeleter } from './room-deleter';
import type { RoomRecords } from './room-records';
import type { RoomService } from './room-service';
import { ignoreNotInMatch, isMatchOn, isMember } from './rules';

export class Departures {
  constructor(
    private readonly store: StateStore,
    private readonly records: RoomRecords,
    private readonly rooms: RoomService,
    private readonly deleter: RoomDeleter,
    private readonly gateway: LiveKitGateway | undefined,
    private readonly leaseMs: number,
    private readonly log: Logger,
  ) {}

  /** Run the checks of a pool whose time has come; returns how many matches ended. */
  async runDue(pool: string): Promise<number> {
    const due = await this.records.claimDue(this.records.departures(pool), this.leaseMs);
    let ended = 0;
    for (const item of due) {
      const cut = item.indexOf('|');
      if (await this.check(pool, item.slice(0, cut), item.slice(cut + 1))) ended++;
    }
    return ended;
  }

  private async check(pool: string, room: string, uid: string): Promise<boolean> {
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
