/**
 * LiveKit test double: a stateful stand-in for livekit-server's RoomService
 * (Twirp JSON over HTTP on 127.0.0.1, random port) plus signed webhooks and
 * simulated participants. Drive it with the real `livekit-server-sdk`:
 *
 *   await using lk = await startLiveKitDouble({ webhookUrl });
 *   const rooms = new RoomServiceClient(lk.url, lk.apiKey, lk.apiSecret);
 *
 * Wire details live in the file headers: twirp-server.ts (transport, errors),
 * auth.ts (grants per method), room-service.ts (semantics), proto-json.ts
 * (field casing), webhooks.ts (signature), faults.ts (failure injection).
 */
import { verifyJoinToken, type AuthKeys } from './auth';
import { FaultInjector, type MethodTarget } from './faults';
import { participantToWebhook, roomToWebhook, type DisconnectReasonName, type RoomRecord } from './proto-json';
import { RoomStore, type JoinInput, type LiveKitEventName, type StoreEvent } from './room-store';
import { TwirpServer } from './twirp-server';
import { WebhookSender, type ForgeMode, type SentWebhook, type WebhookPayload } from './webhooks';

export { RoomFullError, type LiveKitEventName } from './room-store';
export type { ForgeMode, SentWebhook, WebhookPayload } from './webhooks';
export type { MethodTarget, RoomServiceMethod } from './faults';
export type { DisconnectReasonName } from './proto-json';

export interface LiveKitDoubleOptions {
  apiKey?: string;
  apiSecret?: string;
  /** Where webhooks are POSTed; can be set later with setWebhookUrl(). */
  webhookUrl?: string;
  /** Skew accepted on token exp/nbf (go-jose, which LiveKit uses, allows 60s). */
  clockToleranceSec?: number;
  /** When set, emptyTimeout/departureTimeout run with this many ms per second. */
  timeoutScaleMs?: number;
}

export interface RoomSnapshot {
  sid: string;
  name: string;
  emptyTimeout: number;
  departureTimeout: number;
  maxParticipants: number;
  metadata: string;
  creationTimeMs: number;
  participants: string[];
}

export interface ParticipantSnapshot {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
}

export class LiveKitDouble {
  url = '';
  readonly apiKey: string;
  readonly apiSecret: string;
  private readonly keys: AuthKeys;
  private readonly faults = new FaultInjector();
  private readonly webhooks: WebhookSender;
  private readonly store: RoomStore;
  private readonly server: TwirpServer;

  constructor(opts: LiveKitDoubleOptions = {}) {
    this.apiKey = opts.apiKey ?? 'devkey';
    this.apiSecret = opts.apiSecret ?? 'double-secret-0123456789abcdef0123456789';
    this.keys = { apiKey: this.apiKey, apiSecret: this.apiSecret, clockToleranceSec: opts.clockToleranceSec ?? 60 };
    this.webhooks = new WebhookSender(this.apiKey, this.apiSecret, opts.webhookUrl);
    this.store = new RoomStore((e) => void this.emit(e).catch(() => undefined), opts.timeoutScaleMs);
    this.server = new TwirpServer(this.store, this.faults, this.keys);
  }

  async start(): Promise<this> {
    this.url = await this.server.listen('127.0.0.1');
    return this;
  }

  async close(): Promise<void> {
    this.store.dispose();
    this.webhooks.close();
    await this.server.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- failure injection -------------------------------------------------
  failNext(method: MethodTarget, times = 1, status = 503): void {
    this.faults.failNext(method, times, status);
  }
  failAlways(method: MethodTarget, status = 503): void {
    this.faults.failAlways(method, status);
  }
  delay(method: MethodTarget, ms: number, times?: number): void {
    this.faults.delay(method, ms, times);
  }
  dropNext(method: MethodTarget, times = 1): void {
    this.faults.dropNext(method, times);
  }
  dropAlways(method: MethodTarget): void {
    this.faults.dropAlways(method);
  }
  clearFaults(): void {
    this.faults.clearFaults();
  }
  calls(method: MethodTarget): number {
    return this.faults.calls(method);
  }
  resetCalls(): void {
    this.faults.resetCalls();
  }

  // ---- state inspection --------------------------------------------------
  room(name: string): RoomSnapshot | undefined {
    const room = this.store.get(name);
    return room ? snapshot(room) : undefined;
  }
  rooms(): RoomSnapshot[] {
    return this.store.list().map(snapshot);
  }

  // ---- simulated participants (each resolves after its webhooks are delivered)
  /**
   * Connects `identity`. With a token it must be a valid AccessToken JWT of this
   * API key with `roomJoin` for `roomName` and `sub` = identity, else rejects.
   * Auto-creates the room (room_started) like LiveKit; rejects when full.
   */
  async join(roomName: string, identity: string, token?: string): Promise<ParticipantSnapshot> {
    const input: JoinInput = {};
    if (token !== undefined) {
      const claims = verifyJoinToken(token, roomName, identity, this.keys);
      if (claims.name !== undefined) input.name = claims.name;
      if (claims.metadata !== undefined) input.metadata = claims.metadata;
      if (typeof claims.video?.canPublish === 'boolean') input.canPublish = claims.video.canPublish;
      if (typeof claims.video?.canSubscribe === 'boolean') input.canSubscribe = claims.video.canSubscribe;
      if (typeof claims.video?.hidden === 'boolean') input.hidden = claims.video.hidden;
    }
    const p = this.store.join(roomName, identity, input);
    await this.webhooks.idle();
    return { sid: p.sid, identity: p.identity, name: p.name, metadata: p.metadata };
  }

  /** Participant disconnects on its own (participant_left, CLIENT_INITIATED). */
  async leave(roomName: string, identity: string): Promise<void> {
    this.mustLeave(roomName, identity, 'CLIENT_INITIATED', 'participant_left');
    await this.webhooks.idle();
  }

  /** Connection drops (participant_connection_aborted). */
  async abort(roomName: string, identity: string, reason: DisconnectReasonName = 'SIGNAL_CLOSE'): Promise<void> {
    this.mustLeave(roomName, identity, reason, 'participant_connection_aborted');
    await this.webhooks.idle();
  }

  /** Closes a room now (remaining participants leave, then room_finished). */
  async finishRoom(name: string): Promise<void> {
    if (!this.store.finish(name)) throw new Error(`no room ${name}`);
    await this.webhooks.idle();
  }

  /** Finishes every room that has no participants, as if its timeout elapsed. */
  async expireIdleRooms(): Promise<string[]> {
    const names = this.store.expireIdleRooms();
    await this.webhooks.idle();
    return names;
  }

  // ---- webhooks ----------------------------------------------------------
  setWebhookUrl(url: string | undefined): void {
    this.webhooks.setUrl(url);
  }
  /** The next `count` webhooks are recorded as 'dropped' and never POSTed. */
  dropWebhooks(count = 1): void {
    this.webhooks.dropNext(count);
  }
  stopDroppingWebhooks(): void {
    this.webhooks.stopDropping();
  }
  /** Every webhook so far, in order, with the status the app answered. */
  get sentWebhooks(): readonly SentWebhook[] {
    return this.webhooks.sent;
  }
  sendWebhook(payload: WebhookPayload): Promise<SentWebhook> {
    return this.webhooks.send(payload);
  }
  sendForgedWebhook(payload: WebhookPayload, mode: ForgeMode = 'wrong-secret'): Promise<SentWebhook> {
    return this.webhooks.send(payload, mode);
  }
  replayLastWebhook(): Promise<SentWebhook> {
    return this.webhooks.replayLast();
  }
  /** Resolves when every queued webhook has been delivered (or failed). */
  flushWebhooks(): Promise<void> {
    return this.webhooks.idle();
  }
  /** Builds an event from current state (room and participant as LiveKit encodes them). */
  eventFor(event: LiveKitEventName, roomName: string, identity?: string): WebhookPayload {
    const room = this.store.get(roomName);
    if (!room) throw new Error(`no room ${roomName}`);
    const participant = identity === undefined ? undefined : room.participants.get(identity);
    if (identity !== undefined && !participant) throw new Error(`no participant ${identity} in ${roomName}`);
    return {
      event,
      room: roomToWebhook(room),
      ...(participant ? { participant: participantToWebhook(participant) } : {}),
    };
  }

  private emit(e: StoreEvent): Promise<SentWebhook> {
    return this.webhooks.send({
      event: e.event,
      room: roomToWebhook(e.room),
      ...(e.participant ? { participant: participantToWebhook(e.participant) } : {}),
    });
  }

  private mustLeave(roomName: string, identity: string, reason: DisconnectReasonName, event: 'participant_left' | 'participant_connection_aborted'): void {
    if (!this.store.leave(roomName, identity, reason, event)) {
      throw new Error(`no participant ${identity} in room ${roomName}`);
    }
  }
}

function snapshot(room: RoomRecord): RoomSnapshot {
  return {
    sid: room.sid,
    name: room.name,
    emptyTimeout: room.emptyTimeout,
    departureTimeout: room.departureTimeout,
    maxParticipants: room.maxParticipants,
    metadata: room.metadata,
    creationTimeMs: room.creationTimeMs,
    participants: [...room.participants.keys()],
  };
}

export async function startLiveKitDouble(opts: LiveKitDoubleOptions = {}): Promise<LiveKitDouble> {
  return new LiveKitDouble(opts).start();
}
