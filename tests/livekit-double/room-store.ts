/**
 * In-memory rooms and participants, with the lifecycle LiveKit reports.
 *
 * Events raised (through `onEvent`, synchronously, in LiveKit's order):
 *  - room_started: room created by CreateRoom or auto-created by a join
 *  - participant_joined: a participant became ACTIVE
 *  - participant_left: leave (CLIENT_INITIATED), RemoveParticipant
 *    (PARTICIPANT_REMOVED), DeleteRoom (ROOM_DELETED), duplicate identity
 *  - participant_connection_aborted: the connection dropped before/while active
 *  - room_finished: DeleteRoom, finishRoom(), or the empty/departure timeout
 * Timeouts only run when `timeoutScaleMs` is set (ms per LiveKit "second").
 */
import { randomInt } from 'node:crypto';
import type { DisconnectReasonName, ParticipantRecord, RoomRecord } from './proto-json';

export type LiveKitEventName = 'room_started' | 'room_finished' | 'participant_joined' | 'participant_left' | 'participant_connection_aborted';

export interface StoreEvent {
  event: LiveKitEventName;
  room: RoomRecord;
  participant?: ParticipantRecord;
}

export interface CreateRoomInput {
  name: string;
  emptyTimeout?: number;
  departureTimeout?: number;
  maxParticipants?: number;
  metadata?: string;
}

export interface JoinInput {
  name?: string;
  metadata?: string;
  canPublish?: boolean;
  canSubscribe?: boolean;
  canPublishData?: boolean;
  hidden?: boolean;
}

/** Defaults of livekit-server's room config. */
export const DEFAULT_EMPTY_TIMEOUT = 300;
export const DEFAULT_DEPARTURE_TIMEOUT = 20;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function newGuid(prefix: string): string {
  let id = prefix;
  for (let i = 0; i < 12; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

export class RoomFullError extends Error {
  override name = 'RoomFullError';
}

export class RoomStore {
  private readonly rooms = new Map<string, RoomRecord>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly onEvent: (e: StoreEvent) => void,
    private readonly timeoutScaleMs?: number,
  ) {}

  get(name: string): RoomRecord | undefined {
    return this.rooms.get(name);
  }

  list(names?: readonly string[]): RoomRecord[] {
    const all = [...this.rooms.values()];
    return names && names.length > 0 ? all.filter((r) => names.includes(r.name)) : all;
  }

  /** Idempotent like LiveKit: an existing room is returned unchanged. */
  create(input: CreateRoomInput): RoomRecord {
    const existing = this.rooms.get(input.name);
    if (existing) return existing;
    const room: RoomRecord = {
      sid: newGuid('RM_'),
      name: input.name,
      emptyTimeout: input.emptyTimeout || DEFAULT_EMPTY_TIMEOUT,
      departureTimeout: input.departureTimeout || DEFAULT_DEPARTURE_TIMEOUT,
      maxParticipants: input.maxParticipants ?? 0,
      metadata: input.metadata ?? '',
      creationTimeMs: Date.now(),
      participants: new Map(),
    };
    this.rooms.set(room.name, room);
    this.onEvent({ event: 'room_started', room });
    this.schedule(room, room.emptyTimeout);
    return room;
  }

  updateMetadata(name: string, metadata: string): RoomRecord | undefined {
    const room = this.rooms.get(name);
    if (room) room.metadata = metadata;
    return room;
  }

  join(roomName: string, identity: string, input: JoinInput = {}): ParticipantRecord {
    const room = this.rooms.get(roomName) ?? this.create({ name: roomName });
    const previous = room.participants.get(identity);
    const occupied = room.participants.size - (previous ? 1 : 0);
    if (room.maxParticipants > 0 && occupied >= room.maxParticipants) {
      throw new RoomFullError(`room ${roomName} is full (max ${room.maxParticipants})`);
    }
    if (previous) this.disconnect(room, previous, 'participant_left', 'DUPLICATE_IDENTITY');
    const participant: ParticipantRecord = {
      sid: newGuid('PA_'),
      identity,
      name: input.name ?? '',
      metadata: input.metadata ?? '',
      state: 'ACTIVE',
      joinedAtMs: Date.now(),
      canPublish: input.canPublish ?? true,
      canSubscribe: input.canSubscribe ?? true,
      canPublishData: input.canPublishData ?? true,
      hidden: input.hidden ?? false,
      disconnectReason: 'UNKNOWN_REASON',
    };
    room.participants.set(identity, participant);
    this.cancelTimer(room.name);
    this.onEvent({ event: 'participant_joined', room, participant });
    return participant;
  }

  /** Removes a participant; returns false when it was not in the room. */
  leave(
    roomName: string,
    identity: string,
    reason: DisconnectReasonName,
    event: 'participant_left' | 'participant_connection_aborted' = 'participant_left',
  ): boolean {
    const room = this.rooms.get(roomName);
    const participant = room?.participants.get(identity);
    if (!room || !participant) return false;
    this.disconnect(room, participant, event, reason);
    if (room.participants.size === 0) this.schedule(room, room.departureTimeout);
    return true;
  }

  /** Closes a room: remaining participants leave, then room_finished. */
  finish(name: string, reason: DisconnectReasonName = 'ROOM_CLOSED'): boolean {
    const room = this.rooms.get(name);
    if (!room) return false;
    this.cancelTimer(name);
    for (const participant of [...room.participants.values()]) {
      this.disconnect(room, participant, 'participant_left', reason);
    }
    this.rooms.delete(name);
    this.onEvent({ event: 'room_finished', room });
    return true;
  }

  /** Finishes every room without participants, as if its timeout elapsed. */
  expireIdleRooms(): string[] {
    const idle = [...this.rooms.values()].filter((r) => r.participants.size === 0).map((r) => r.name);
    for (const name of idle) this.finish(name);
    return idle;
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private disconnect(
    room: RoomRecord,
    participant: ParticipantRecord,
    event: 'participant_left' | 'participant_connection_aborted',
    reason: DisconnectReasonName,
  ): void {
    room.participants.delete(participant.identity);
    participant.state = 'DISCONNECTED';
    participant.disconnectReason = reason;
    this.onEvent({ event, room, participant });
  }

  private schedule(room: RoomRecord, timeoutSec: number): void {
    if (this.timeoutScaleMs === undefined) return;
    this.cancelTimer(room.name);
    const timer = setTimeout(() => {
      this.timers.delete(room.name);
      if (this.rooms.get(room.name) === room && room.participants.size === 0) this.finish(room.name);
    }, timeoutSec * this.timeoutScaleMs);
    timer.unref();
    this.timers.set(room.name, timer);
  }

  private cancelTimer(name: string): void {
    const timer = this.timers.get(name);
    if (timer) clearTimeout(timer);
    this.timers.delete(name);
  }
}
