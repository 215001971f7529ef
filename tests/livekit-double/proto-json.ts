/**
 * Room / ParticipantInfo state and their two JSON encodings.
 *
 * LiveKit's Twirp server (twirp v8 defaults, no JSON options) answers with
 * protojson using PROTO field names (snake_case) and EMITS DEFAULTS, int64 as
 * strings, enums as their names. Webhooks are encoded with plain
 * protojson.Marshal: lowerCamelCase json names, defaults OMITTED.
 * The SDK parses either via protobuf-es `fromJson`, which accepts both names.
 */

export type ParticipantStateName = 'JOINING' | 'JOINED' | 'ACTIVE' | 'DISCONNECTED';
export type DisconnectReasonName =
  | 'UNKNOWN_REASON'
  | 'CLIENT_INITIATED'
  | 'DUPLICATE_IDENTITY'
  | 'SERVER_SHUTDOWN'
  | 'PARTICIPANT_REMOVED'
  | 'ROOM_DELETED'
  | 'STATE_MISMATCH'
  | 'JOIN_FAILURE'
  | 'MIGRATION'
  | 'SIGNAL_CLOSE'
  | 'ROOM_CLOSED'
  | 'CONNECTION_TIMEOUT';

export interface ParticipantRecord {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  state: ParticipantStateName;
  joinedAtMs: number;
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
  hidden: boolean;
  disconnectReason: DisconnectReasonName;
}

export interface RoomRecord {
  sid: string;
  name: string;
  emptyTimeout: number;
  departureTimeout: number;
  maxParticipants: number;
  metadata: string;
  creationTimeMs: number;
  participants: Map<string, ParticipantRecord>;
}

type Json = Record<string, unknown>;

/** Removes protobuf default values, as protojson.Marshal does. */
function omitDefaults(obj: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value === '' || value === 0 || value === false || value === '0' || value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    if (typeof value === 'object' && !Array.isArray(value)) {
      const nested = omitDefaults(value as Json);
      if (Object.keys(nested).length === 0) continue;
      out[key] = nested;
      continue;
    }
    if (key === 'state' && value === 'JOINING') continue;
    if (key === 'kind' && value === 'STANDARD') continue;
    if (key === 'disconnectReason' && value === 'UNKNOWN_REASON') continue;
    out[key] = value;
  }
  return out;
}

const sec = (ms: number): string => String(Math.floor(ms / 1000));

/** Room in protojson proto-name form, as RoomService responses carry it. */
export function roomToTwirp(room: RoomRecord): Json {
  return {
    sid: room.sid,
    name: room.name,
    empty_timeout: room.emptyTimeout,
    departure_timeout: room.departureTimeout,
    max_participants: room.maxParticipants,
    creation_time: sec(room.creationTimeMs),
    creation_time_ms: String(room.creationTimeMs),
    turn_password: '',
    enabled_codecs: [],
    metadata: room.metadata,
    num_participants: countVisible(room),
    num_publishers: 0, // simulated participants never publish tracks
    active_recording: false,
    version: null,
  };
}

export function participantToTwirp(p: ParticipantRecord): Json {
  return {
    sid: p.sid,
    identity: p.identity,
    state: p.state,
    tracks: [],
    metadata: p.metadata,
    joined_at: sec(p.joinedAtMs),
    joined_at_ms: String(p.joinedAtMs),
    name: p.name,
    version: 1,
    permission: {
      can_subscribe: p.canSubscribe,
      can_publish: p.canPublish,
      can_publish_data: p.canPublishData,
      can_publish_sources: [],
      hidden: p.hidden,
      recorder: false,
      can_update_metadata: false,
      agent: false,
      can_subscribe_metrics: false,
      can_manage_agent_session: false,
    },
    region: '',
    is_publisher: false,
    kind: 'STANDARD',
    attributes: {},
    disconnect_reason: p.disconnectReason,
    kind_details: [],
    data_tracks: [],
    client_protocol: 0,
    capabilities: [],
  };
}

/** Room in webhook form (camelCase, defaults omitted). */
export function roomToWebhook(room: RoomRecord): Json {
  return omitDefaults({
    sid: room.sid,
    name: room.name,
    emptyTimeout: room.emptyTimeout,
    departureTimeout: room.departureTimeout,
    maxParticipants: room.maxParticipants,
    creationTime: sec(room.creationTimeMs),
    creationTimeMs: String(room.creationTimeMs),
    metadata: room.metadata,
    numParticipants: countVisible(room),
  });
}

export function participantToWebhook(p: ParticipantRecord): Json {
  return omitDefaults({
    sid: p.sid,
    identity: p.identity,
    state: p.state,
    metadata: p.metadata,
    joinedAt: sec(p.joinedAtMs),
    joinedAtMs: String(p.joinedAtMs),
    name: p.name,
    version: 1,
    permission: {
      canSubscribe: p.canSubscribe,
      canPublish: p.canPublish,
      canPublishData: p.canPublishData,
      hidden: p.hidden,
    },
    kind: 'STANDARD',
    disconnectReason: p.disconnectReason,
  });
}

function countVisible(room: RoomRecord): number {
  let n = 0;
  for (const p of room.participants.values()) if (!p.hidden) n++;
  return n;
}

/** Reads a field sent either as json name (camelCase) or proto name (snake_case). */
export function field(body: Json, jsonName: string, protoName: string): unknown {
  return body[jsonName] ?? body[protoName];
}

export function stringField(body: Json, jsonName: string, protoName = jsonName): string {
  const v = field(body, jsonName, protoName);
  return typeof v === 'string' ? v : '';
}

export function numberField(body: Json, jsonName: string, protoName = jsonName): number {
  const v = field(body, jsonName, protoName);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
}
