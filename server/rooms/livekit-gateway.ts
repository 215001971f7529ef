/**
 * LiveKitGateway: the thin edge to LiveKit's RoomService (through the real livekit-server-sdk),
 * every call under the shared LiveKitPolicy, plus participant tokens.
 *
 * "Already gone" is success: DeleteRoom of a missing room and RemoveParticipant of an absent
 * participant resolve, so deletions are idempotent and safe to repeat from the retry queue.
 */
import { AccessToken, type ParticipantInfo, type Room, type RoomServiceClient } from 'livekit-server-sdk';
import { classifyLiveKitError } from './failures';
import type { LiveKitPolicy } from './livekit-policy';
import type { LiveKitSettings } from './options';

export interface RoomSpec {
  name: string;
  emptyTimeoutSec: number;
  departureTimeoutSec: number;
  metadata: string;
}

export class LiveKitGateway {
  constructor(
    private readonly settings: LiveKitSettings,
    private readonly policy: LiveKitPolicy,
    private readonly client: RoomServiceClient,
  ) {}

  get clientUrl(): string {
    return this.settings.clientUrl;
  }

  /** A room for two. Idempotent on LiveKit's side: an existing room of that name is returned. */
  createRoom(spec: RoomSpec): Promise<Room> {
    return this.policy.executeCreation(() =>
      this.client.createRoom({
        name: spec.name,
        maxParticipants: 2,
        emptyTimeout: spec.emptyTimeoutSec,
        departureTimeout: spec.departureTimeoutSec,
        metadata: spec.metadata,
      }),
    );
  }

  /** Closes the room and disconnects whoever is in it. Resolves when it is gone (or never was). */
  deleteRoom(name: string): Promise<void> {
    return this.policy.execute(() => this.client.deleteRoom(name).catch(ignoreNotFound));
  }

  removeParticipant(room: string, identity: string): Promise<void> {
    return this.policy.execute(() => this.client.removeParticipant(room, identity).catch(ignoreNotFound));
  }

  listRooms(): Promise<Room[]> {
    return this.policy.execute(() => this.client.listRooms());
  }

  /** Participants now in the room ([] when the room does not exist). */
  listParticipants(room: string): Promise<ParticipantInfo[]> {
    return this.policy.execute(() => this.client.listParticipants(room));
  }

  /** A join token for one user: their own identity, this room only, publish/subscribe/data. */
  async token(room: string, identity: string, ttlMs: number): Promise<string> {
    const at = new AccessToken(this.settings.apiKey, this.settings.apiSecret, { identity, ttl: Math.max(1, Math.round(ttlMs / 1000)) });
    at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true });
    return at.toJwt();
  }
}

function ignoreNotFound(err: unknown): void {
  if (classifyLiveKitError(err) !== 'not_found') throw err;
}
