/**
 * RoomService authorization, mirroring livekit-server's auth middleware and
 * its Ensure*Permission checks.
 *
 * Header: `Authorization: Bearer <JWT>`. Grants the SDK (2.19) puts in the
 * token, and that this double requires, per method:
 *   CreateRoom, DeleteRoom            video.roomCreate
 *   ListRooms                         video.roomList
 *   ListParticipants, RemoveParticipant,
 *   UpdateRoomMetadata                video.roomAdmin && video.room == req.room
 * Every failure is a 401 Twirp error with code "unauthenticated". (The real
 * server answers header/signature failures from its middleware as plain text
 * 401; grant failures are Twirp JSON "permissions denied". Here both are JSON.)
 */
import { JwtError, verifyJwt, type LiveKitClaims } from './jwt';
import type { RoomServiceMethod } from './faults';

export class TwirpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    msg: string,
  ) {
    super(msg);
  }
}

export const unauthenticated = (msg: string): TwirpError => new TwirpError(401, 'unauthenticated', msg);
export const notFound = (msg: string): TwirpError => new TwirpError(404, 'not_found', msg);

const BEARER = 'Bearer ';

export interface AuthKeys {
  apiKey: string;
  apiSecret: string;
  clockToleranceSec: number;
}

export function authenticate(header: string | undefined, keys: AuthKeys): LiveKitClaims | undefined {
  if (!header) return undefined; // like livekit-server: no grants, rejected by the permission check
  if (!header.startsWith(BEARER)) {
    throw unauthenticated(`invalid authorization header. Must start with ${BEARER}`);
  }
  try {
    return verifyJwt(header.slice(BEARER.length), {
      issuer: keys.apiKey,
      secret: keys.apiSecret,
      clockToleranceSec: keys.clockToleranceSec,
    });
  } catch (err) {
    if (err instanceof JwtError) throw unauthenticated(`invalid token: ${err.message}`);
    throw err;
  }
}

export function requireGrants(claims: LiveKitClaims | undefined, method: RoomServiceMethod, room: string): void {
  const video = claims?.video;
  let ok: boolean;
  switch (method) {
    case 'CreateRoom':
    case 'DeleteRoom':
      ok = video?.roomCreate === true;
      break;
    case 'ListRooms':
      ok = video?.roomList === true;
      break;
    case 'ListParticipants':
    case 'RemoveParticipant':
    case 'UpdateRoomMetadata':
      ok = video?.roomAdmin === true && video.room === room;
      break;
  }
  if (!ok) throw unauthenticated('permissions denied');
}

/** Checks a participant AccessToken for `join(room, identity, token)`. */
export function verifyJoinToken(token: string, room: string, identity: string, keys: AuthKeys): LiveKitClaims {
  let claims: LiveKitClaims;
  try {
    claims = verifyJwt(token, {
      issuer: keys.apiKey,
      secret: keys.apiSecret,
      clockToleranceSec: keys.clockToleranceSec,
    });
  } catch (err) {
    throw new Error(`join rejected: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (claims.video?.roomJoin !== true) throw new Error('join rejected: token has no roomJoin grant');
  if (claims.video.room !== room) {
    throw new Error(`join rejected: token is for room ${String(claims.video.room)}, not ${room}`);
  }
  if (claims.sub !== identity) {
    throw new Error(`join rejected: token identity ${String(claims.sub)} is not ${identity}`);
  }
  return claims;
}
