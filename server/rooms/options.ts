/**
 * Settings of the rooms domain, and how they come from the validated Config (server/config.ts
 * holds the LIVEKIT_* variables, their defaults and reasons). Durations are milliseconds unless
 * the name says seconds (LiveKit's own room timeouts are whole seconds on the wire).
 */
import type { Config } from '../config';
import { ConfigError } from '../config-error';
import { isTurnUrl, type TurnSettings } from './turn';

/** One RTCIceServer, as the browser's RTCPeerConnection takes it. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface LiveKitSettings {
  /** RoomService (Twirp) base URL, http(s)://. */
  url: string;
  /** What browsers connect to (ws(s)://); sent to clients in the `matched` event. */
  clientUrl: string;
  apiKey: string;
  apiSecret: string;
}

export interface PolicyOptions {
  /** One RoomService call may take this long (timeout policy, and the SDK's own request timeout). */
  callTimeoutMs: number;
  /** Retries after the first call (3 means up to 4 calls). */
  retryAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Consecutive failed calls that open the breaker. */
  breakerThreshold: number;
  /** How long the breaker stays open before one test call, at most: see probeIntervalMs. */
  breakerHalfOpenMs: number;
  /** While it is open, LiveKit is asked directly (ListRooms) this often; its first answer ends the open period. 0: never. */
  probeIntervalMs: number;
  /** Concurrent RoomService calls from this process, and how many more may wait. */
  bulkheadLimit: number;
  bulkheadQueue: number;
}

export interface RoomsOptions {
  /** Undefined: LiveKit is not configured and every match is direct (peer-to-peer) mode. */
  livekit: LiveKitSettings | undefined;
  policy: PolicyOptions;
  emptyTimeoutSec: number;
  departureTimeoutSec: number;
  tokenTtlMs: number;
  /** How long room records stay in Redis after their last change (a record is never dropped while its deletion is pending). */
  recordTtlMs: number;
  /** A participant who left may come back within this long before the match ends for disconnect. */
  rejoinGraceMs: number;
  deleteRetryBaseMs: number;
  deleteRetryMaxMs: number;
  /** Failed attempts after which a room deletion is parked as a dead letter (admin.deadLetters). */
  deleteMaxAttempts: number;
  /** A claimed queue item (deletion or departure check) is retried by any process after this long if its worker died. */
  leaseMs: number;
  janitorIntervalMs: number;
  reconcileIntervalMs: number;
  webhookDedupeTtlMs: number;
  /** Sent as they are to every direct-mode user (STUN; no TURN with a static credential). */
  iceServers: IceServer[];
  /** A TURN service with per-user credentials (turn.ts); undefined: none. */
  turn: TurnSettings | undefined;
}

export function roomsOptions(env: Config): RoomsOptions {
  const { LIVEKIT_URL: url, LIVEKIT_API_KEY: apiKey, LIVEKIT_API_SECRET: apiSecret } = env;
  return {
    livekit: url && apiKey && apiSecret ? { url, apiKey, apiSecret, clientUrl: env.LIVEKIT_CLIENT_URL ?? url.replace(/^http/, 'ws') } : undefined,
    policy: {
      callTimeoutMs: env.LIVEKIT_CALL_TIMEOUT_MS,
      retryAttempts: env.LIVEKIT_RETRY_ATTEMPTS,
      retryBaseMs: env.LIVEKIT_RETRY_BASE_MS,
      retryMaxMs: env.LIVEKIT_RETRY_MAX_MS,
      breakerThreshold: env.LIVEKIT_BREAKER_THRESHOLD,
      breakerHalfOpenMs: env.LIVEKIT_BREAKER_HALF_OPEN_MS,
      probeIntervalMs: env.RESILIENCE_PROBE_INTERVAL_MS,
      bulkheadLimit: env.LIVEKIT_BULKHEAD_LIMIT,
      bulkheadQueue: env.LIVEKIT_BULKHEAD_QUEUE,
    },
    emptyTimeoutSec: env.LIVEKIT_EMPTY_TIMEOUT_S,
    departureTimeoutSec: env.LIVEKIT_DEPARTURE_TIMEOUT_S,
    tokenTtlMs: env.LIVEKIT_TOKEN_TTL_MS,
    recordTtlMs: env.LIVEKIT_ROOM_TTL_MS,
    rejoinGraceMs: env.LIVEKIT_REJOIN_GRACE_MS,
    deleteRetryBaseMs: env.LIVEKIT_DELETE_RETRY_BASE_MS,
    deleteRetryMaxMs: env.LIVEKIT_DELETE_RETRY_MAX_MS,
    deleteMaxAttempts: env.LIVEKIT_DELETE_MAX_ATTEMPTS,
    // A claimed item is re-offered once a whole policy run (every attempt timing out) is surely over.
    leaseMs: (env.LIVEKIT_RETRY_ATTEMPTS + 1) * (env.LIVEKIT_CALL_TIMEOUT_MS + env.LIVEKIT_RETRY_MAX_MS),
    janitorIntervalMs: env.LIVEKIT_JANITOR_INTERVAL_MS,
    reconcileIntervalMs: env.LIVEKIT_RECONCILE_INTERVAL_MS,
    webhookDedupeTtlMs: env.LIVEKIT_WEBHOOK_DEDUPE_TTL_MS,
    iceServers: env.ICE_SERVERS,
    turn: turnSettings(env),
  };
}

/** TURN_URLS with TURN_SECRET, or none; one without the other stops start-up (ConfigError). */
function turnSettings(env: Config): TurnSettings | undefined {
  const { TURN_URLS: urls, TURN_SECRET: secret } = env;
  if (urls.length === 0 && !secret) return undefined;
  if (urls.length === 0 || !secret) throw new ConfigError('Invalid configuration: TURN_URLS and TURN_SECRET go together (set both, or neither)');
  return { urls, secret, ttlS: env.TURN_TTL_S };
}

/** Parse `ICE_SERVERS` (a JSON array of RTCIceServer); server/config.ts's zod schema calls this in a transform. */
export function parseIceServers(json: string): IceServer[] {
  const v: unknown = JSON.parse(json);
  if (!Array.isArray(v)) throw new Error('ICE_SERVERS must be a JSON array');
  return v.map((s: unknown, i) => {
    const o = s as Partial<IceServer> | null;
    const urls = o?.urls;
    const ok = typeof urls === 'string' || (Array.isArray(urls) && urls.length > 0 && urls.every((u) => typeof u === 'string'));
    if (!o || !ok) throw new Error(`ICE_SERVERS[${i}] needs "urls" (a string or a list of strings)`);
    // A static TURN credential would be the same for every user and readable in every page.
    if ([urls].flat().some(isTurnUrl)) throw new Error(`ICE_SERVERS[${i}] is a TURN server: put it in TURN_URLS with TURN_SECRET (per-user credentials)`);
    return {
      urls,
      ...(o.username !== undefined ? { username: String(o.username) } : {}),
      ...(o.credential !== undefined ? { credential: String(o.credential) } : {}),
    };
  });
}
