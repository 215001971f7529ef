/**
 * RoomService: a LiveKit room per match, set up together with the match or not at all.
 *
 * While LiveKit is configured and its breaker is not open, new matches are made deferred
 * (`matchMode`): the pairing script moves both users to CONNECTING without telling them. Then,
 * per match (`onMatches`):
 *   1. a room record (status creating) is written, so nothing we ask LiveKit for goes unrecorded;
 *   2. CreateRoom `room_<uuid>` for 2 participants, under the LiveKit policy;
 *   3. one token per user (their identity, this room only), delivered only inside that user's
 *      `matched` event by store.announce, which does nothing unless both are still CONNECTING in
 *      this match (if not, the room is ended again);
 *   4. the record becomes active.
 * If creation fails for good: when LiveKit is unavailable (breaker open, bulkhead full) the match
 * goes ahead in direct mode; otherwise the match is rolled back (both users back in the queue at
 * their places, with a notice; audited as match_ended/rollback). Either way the room name is ended
 * too, because a creation that timed out on our side may still have happened on LiveKit's.
 * Matches without LiveKit are announced at once by the pairing script, unless ICE servers are
 * configured (ICE_SERVERS, or TURN_URLS): then they are deferred too, and announced here with
 * `iceServers`, each user's own: with TURN, a credential made for that user alone (turn.ts), so
 * no user ever sees another's.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../infra/redis';
import type { Logger } from '../infra/logger';
import type { Clock } from '../shared/clock';
import type { MatchMade, StateStore } from '../state/store';
import { errorMessage, isUnavailable } from './failures';
import type { LiveKitGateway } from './livekit-gateway';
import type { LiveKitPolicy } from './livekit-policy';
import type { RoomsOptions } from './options';
import type { RoomDeleter } from './room-deleter';
import type { RoomRecord, RoomRecords } from './room-records';
import { isMatchOn, type MatchInfo } from './rules';
import { turnServerFor } from './turn';

export interface LiveKitParts {
  gateway: LiveKitGateway;
  policy: LiveKitPolicy;
}

export class RoomService {
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly store: StateStore,
    private readonly redis: RedisClient,
    private readonly records: RoomRecords,
    private readonly deleter: RoomDeleter,
    private readonly livekit: LiveKitParts | undefined,
    private readonly opts: RoomsOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** For store.matchMode: LiveKit rooms while LiveKit is usable, else direct (deferred only to add ICE servers). */
  matchMode(): { mode: 'direct' | 'livekit'; defer: boolean } {
    if (this.livekit && !this.livekit.policy.isOpen()) return { mode: 'livekit', defer: true };
    return { mode: 'direct', defer: this.opts.iceServers.length > 0 || this.opts.turn !== undefined };
  }

  /** For store.onMatches: set up the call of every deferred match (in the background). */
  onMatches(pool: string, matches: MatchMade[], deferred: boolean): void {
    if (!deferred) return;
    for (const m of matches) this.track(this.setup(pool, m));
  }

  /** Resolves when every setup started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** End the room of a match that ended (skip, end, timeout). No-op when it had none. */
  endForMatch(pool: string, matchId: string, reason: string): Promise<void> {
    const p = (async () => {
      const { room } = await this.matchInfo(pool, matchId);
      if (room) await this.deleter.end(pool, room, reason);
    })();
    this.track(p);
    return p;
  }

  async matchInfo(pool: string, matchId: string): Promise<MatchInfo> {
    return (await this.matchInfos(pool, [matchId]))[0]!;
  }

  /** matchInfo for many matches in one round trip. */
  async matchInfos(pool: string, matchIds: string[]): Promise<MatchInfo[]> {
    if (matchIds.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of matchIds) pipe.hmget(this.store.keys.match(pool, id), 'status', 'mode', 'room');
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, v]) => {
      if (err) throw err;
      const [status, mode, room] = v as Array<string | null>;
      return { status: status ?? 'gone', mode: mode ?? null, room: room ?? null };
    });
  }

  /**
   * LiveKit no longer has a room we think is in use (room_finished on its own, or missing from
   * listRooms). Match over: just record it. Still connecting: make the room again (same name, so
   * the tokens already sent still work). In a call: check on both users now, which ends the match
   * for disconnect unless they are back in a room of that name.
   */
  async repairMissing(rec: RoomRecord): Promise<void> {
    // A record still `creating` belongs to a setup in progress (its own failure path ends it),
    // unless that setup died: then the lease has run out and the match, if any, is over.
    if (rec.status === 'creating' && this.clock.now() - rec.createdAt < this.opts.leaseMs) return;
    const m = await this.matchInfo(rec.pool, rec.matchId);
    if (!isMatchOn(m) || m.room !== rec.room) {
      await this.records.setStatus(rec.pool, rec.room, 'terminated', ['creating', 'active'], { endReason: 'gone' });
      return;
    }
    if (m.status === 'connecting') {
      this.log.warn({ room: rec.room, matchId: rec.matchId }, 'room vanished before the call started; re-creating it');
      await this.createInLiveKit(rec.room, rec.pool, rec.matchId, rec.a, rec.b);
      return;
    }
    const now = this.clock.now();
    await this.records.scheduleDeparture(rec.pool, rec.room, rec.a, now);
    await this.records.scheduleDeparture(rec.pool, rec.room, rec.b, now);
  }

  private async setup(pool: string, m: MatchMade): Promise<void> {
    try {
      const info = await this.matchInfo(pool, m.matchId);
      if (info.mode !== 'livekit' || !this.livekit) return await this.announceDirect(pool, m, 'direct match');
      await this.setupRoom(pool, m, this.livekit);
    } catch (err) {
      // Redis trouble: the CONNECTING deadline ends the match and the janitor ends any room.
      this.log.error({ pool, matchId: m.matchId, err: errorMessage(err) }, 'call setup failed');
    }
  }

  private async setupRoom(pool: string, m: MatchMade, lk: LiveKitParts): Promise<void> {
    const room = `room_${randomUUID()}`;
    await this.records.create({ room, pool, matchId: m.matchId, a: m.a, b: m.b });
    try {
      await this.createInLiveKit(room, pool, m.matchId, m.a, m.b);
    } catch (err) {
      // In the background: the users should not wait for a deletion against a failing LiveKit.
      this.track(this.deleter.end(pool, room, 'create_failed'));
      if (isUnavailable(err) || lk.policy.isOpen()) {
        this.log.warn({ pool, matchId: m.matchId, err: errorMessage(err) }, 'LiveKit unavailable; match goes ahead in direct mode');
        await this.announceDirect(pool, m, 'livekit fallback');
        return;
      }
      const r = await this.store.rollback({ pool, matchId: m.matchId, reason: 'room_create_failed' });
      this.log.warn({ pool, matchId: m.matchId, rolledBack: r.ok, err: errorMessage(err) }, 'room creation failed; match rolled back');
      return;
    }
    const ttl = this.opts.tokenTtlMs;
    const [ta, tb] = await Promise.all([lk.gateway.token(room, m.a, ttl), lk.gateway.token(room, m.b, ttl)]);
    const url = lk.gateway.clientUrl;
    const r = await this.store.announce({
      pool,
      matchId: m.matchId,
      mode: 'livekit',
      room,
      forA: { livekit: { url, token: ta, room }, ...this.ice(m.a) },
      forB: { livekit: { url, token: tb, room }, ...this.ice(m.b) },
    });
    if (!r.ok) {
      this.log.info({ pool, matchId: m.matchId, room }, 'match ended while its room was being made');
      await this.deleter.end(pool, room, 'match_gone');
      return;
    }
    await this.records.setStatus(pool, room, 'active', ['creating']);
  }

  createInLiveKit(room: string, pool: string, matchId: string, a: string, b: string): Promise<unknown> {
    if (!this.livekit) return Promise.reject(new Error('LiveKit is not configured'));
    return this.livekit.gateway.createRoom({
      name: room,
      emptyTimeoutSec: this.opts.emptyTimeoutSec,
      departureTimeoutSec: this.opts.departureTimeoutSec,
      metadata: JSON.stringify({ matchId, pool, users: [a, b], createdAt: this.clock.now() }),
    });
  }

  private async announceDirect(pool: string, m: MatchMade, why: string): Promise<void> {
    const r = await this.store.announce({ pool, matchId: m.matchId, mode: 'direct', forA: this.ice(m.a), forB: this.ice(m.b) });
    this.log.debug({ pool, matchId: m.matchId, announced: r.ok, why }, 'direct match announced');
  }

  /** The ICE servers for `userId`: the shared STUN entries, and TURN with credentials of their own. */
  private ice(userId: string): { iceServers?: RoomsOptions['iceServers'] } {
    const { iceServers, turn } = this.opts;
    const servers = turn ? [...iceServers, turnServerFor(turn, userId, this.clock.now())] : iceServers;
    return servers.length ? { iceServers: servers } : {};
  }

  private track(p: Promise<unknown>): void {
    const logged = p.catch((err: unknown) => this.log.warn({ err: errorMessage(err) }, 'room task failed'));
    this.inFlight.add(logged);
    void logged.finally(() => this.inFlight.delete(logged));
  }
}
