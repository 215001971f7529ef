/**
 * The RoomService methods, on decoded Twirp JSON bodies.
 *
 * Requests: the SDK sends protobuf-es `toJson()` output (lowerCamelCase json
 * names, defaults omitted); protojson on the server accepts proto names too,
 * so both are read. Responses use proto names with defaults (see proto-json).
 * Not-found behaviour follows livekit-server:
 *   DeleteRoom / UpdateRoomMetadata on a missing room -> not_found "requested room does not exist"
 *   RemoveParticipant of a missing participant         -> not_found "participant not found"
 *   ListParticipants of a missing room                 -> 200 { participants: [] }
 */
import { TwirpError, notFound, requireGrants } from './auth';
import type { RoomServiceMethod } from './faults';
import type { LiveKitClaims } from './jwt';
import { numberField, participantToTwirp, roomToTwirp, stringField } from './proto-json';
import type { RoomStore } from './room-store';

type Json = Record<string, unknown>;

export function invokeRoomService(method: RoomServiceMethod, body: Json, claims: LiveKitClaims | undefined, store: RoomStore): Json {
  const room = stringField(body, 'room');
  switch (method) {
    case 'CreateRoom': {
      requireGrants(claims, method, room);
      const name = stringField(body, 'name');
      if (!name) throw new TwirpError(400, 'invalid_argument', 'no room name');
      const created = store.create({
        name,
        emptyTimeout: numberField(body, 'emptyTimeout', 'empty_timeout'),
        departureTimeout: numberField(body, 'departureTimeout', 'departure_timeout'),
        maxParticipants: numberField(body, 'maxParticipants', 'max_participants'),
        metadata: stringField(body, 'metadata'),
      });
      return roomToTwirp(created);
    }
    case 'ListRooms': {
      requireGrants(claims, method, room);
      const raw = body['names'];
      const names = Array.isArray(raw) ? raw.filter((n): n is string => typeof n === 'string') : [];
      return { rooms: store.list(names).map(roomToTwirp) };
    }
    case 'DeleteRoom': {
      requireGrants(claims, method, room);
      if (!store.finish(room, 'ROOM_DELETED')) throw notFound('requested room does not exist');
      return {};
    }
    case 'ListParticipants': {
      requireGrants(claims, method, room);
      const found = store.get(room);
      return { participants: found ? [...found.participants.values()].map(participantToTwirp) : [] };
    }
    case 'RemoveParticipant': {
      requireGrants(claims, method, room);
      if (!store.leave(room, stringField(body, 'identity'), 'PARTICIPANT_REMOVED')) {
        throw notFound('participant not found');
      }
      return {};
    }
    case 'UpdateRoomMetadata': {
      requireGrants(claims, method, room);
      const updated = store.updateMetadata(room, stringField(body, 'metadata'));
      if (!updated) throw notFound('requested room does not exist');
      return roomToTwirp(updated);
    }
  }
}
