/**
 * RoomEvents: what a verified LiveKit event means for a match. Every handler is idempotent and
 * conditional on the current state, so a replayed, late or out-of-order event changes nothing
 * it should not.
 *
 *   participant_joined   one of the pair is in the room: store.joined (both in -> IN_CALL); a
 *                        pending departure check for them is cancelled. Anyone else is removed.
 *                        A join to a room whose match is over (an old token rejoining: LiveKit
 *                        re-creates rooms on join) ends the room again.
 *   room_started         for a room we ended or never made: end it again (one still being ended
 *                        is left to that deletion).
 *   participant_left /   one of the pair left an active room: a departure check is scheduled
 *   ..._connection_aborted  `rejoinGraceMs` later (see RoomJanitor). Leaving because we removed
 *                        them or deleted the room is not a departure.
 *   room_finished        a room we were ending is confirmed gone; a room in use that LiveKit
 *                        closed on its own is repaired (RoomService.repairMissing).
 *
 * Why not presence.signal(uid, 'dropped')? The presence grace ends when the user's *WebSocket* is
 * seen again, and a dropped media connection says nothing about that socket: a user whose app
 * stays connected would be "back" at once and the broken call would never end. The departure
 * check asks LiveKit itself whether the user is back in the room. The partner's own LiveKit
 * client already shows the drop, so no extra event is needed for them.
 */
import type { WebhookEvent } from 'livekit-server-sdk';
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

/** Disconnect reasons (livekit.DisconnectReason) that are our own doing, not a departure. */
const NOT_A_DEPARTURE = new Set([2 /* DUPLICATE_IDENTITY */, 4 /* PARTICIPANT_REMOVED */, 5 /* ROOM_DELETED */]);

export class RoomEvents {
  constructor(
    private readonly store: StateStore,
    private readonly records: RoomRecords,
    private readonly rooms: RoomService,
    private readonly deleter: RoomDeleter,
    private readonly gateway: LiveKitGateway | undefined,
    private readonly rejoinGraceMs: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async handle(e: WebhookEvent): Promise<void> {
    const name = e.room?.name ?? '';
    if (!name.startsWith(ROOM_PREFIX)) return; // not a room of ours
    const pool = (await this.records.poolOf(name)) ?? poolFromMetadata(e.room?.metadata);
    const rec = pool ? await this.records.get(pool, name) : null;
    const identity = e.participant?.identity ?? '';
    switch (e.event) {
      case 'room_started':
        // A room we are still ending is left to that deletion (queued, retried until it succeeds):
        // its own creation's room_started often lands after a match ended mid-setup, and ending it
        // again here would call DeleteRoom twice. One that came back after its deletion finished is
        // ended again here, or by the reconciler if this event raced with that deletion.
        if (!rec || rec.status === 'terminated') await this.deleter.end(pool ?? DEFAULT_POOL, name, 'unexpected_room', { reopen: true });
        return;
      case 'participant_joined':
        return this.joined(pool ?? DEFAULT_POOL, name, rec, identity);
      case 'participant_left':
      case 'participant_connection_aborted':
        if (rec?.status === 'active' && isMember(rec, identity) && !NOT_A_DEPARTURE.has(e.participant?.disconnectReason ?? 0)) {
          await this.records.scheduleDeparture(rec.pool, name, identity, this.clock.now() + this.rejoinGraceMs);
        }
        return;
      case 'room_finished':
        if (rec?.status === 'terminating') await this.records.setStatus(rec.pool, name, 'terminated', ['terminating']);
        else if (rec && !isOver(rec)) await this.rooms.repairMissing(rec);
        return;
      default:
        return;
    }
  }

  private async joined(pool: string, room: string, rec: RoomRecord | null, identity: string): Promise<void> {
    if (!rec || isOver(rec)) {
      this.log.warn({ room, identity }, 'join to a room whose match is over; ending it again');
      await this.deleter.end(pool, room, 'rejoined_after_end', { reopen: true });
      return;
    }
    if (!isMember(rec, identity)) {
      this.log.warn({ room, identity }, 'stranger in a room; removing them');
      await this.gateway?.removeParticipant(room, identity).catch((err: unknown) => this.log.warn({ room, err: errorMessage(err) }, 'remove failed'));
      return;
    }
    await this.records.cancelDeparture(rec.pool, room, identity);
    const m = await this.rooms.matchInfo(rec.pool, rec.matchId);
    if (!isMatchOn(m)) {
      await this.deleter.end(rec.pool, room, 'match_ended');
      return;
    }
    if (m.status === 'connecting') await this.store.joined({ uid: identity, pool: rec.pool, matchId: rec.matchId }).catch(ignoreNotInMatch);
  }
}
