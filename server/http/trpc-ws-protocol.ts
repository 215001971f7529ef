/**
 * Small pieces of tRPC's WebSocket protocol shared by our handler (trpc-ws.ts and its connection
 * and subscription) and the stock adapter's wiring (trpc-ws-stock.ts), on @trpc/server's public
 * exports only.
 */
import { initTRPC, TRPCError, type AnyRouter } from '@trpc/server';
import { parseConnectionParamsFromUnknown } from '@trpc/server/http';
import type { Clock } from '../shared/clock';

export type ConnectionParams = Record<string, string | undefined> | null;

/** ws's readyState of an open socket (ws exports it only as a static of the class). */
export const OPEN = 1;

/** Close code for a socket that sent more messages per second than allowed (private range, as HTTP 429). */
export const CLOSE_TOO_MANY_MESSAGES = 4429;

/** What a client gets when even the error shape cannot be built or sent (the stock adapter's own). */
export const FALLBACK_SHAPE = { code: -32603, message: 'Internal server error', data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 } };

/**
 * The transformer of a router made without one. tRPC does not export its `defaultTransformer`,
 * but every root made without a transformer holds that same object in its public, typed
 * `_config` (the one `router._def._config` is), so a throwaway root shows which it is. A router
 * with it sends its data as is, which lets a reply carry already-encoded JSON verbatim.
 */
const DEFAULT_TRANSFORMER = initTRPC.create()._config.transformer;

export function hasPlainTransformer(router: AnyRouter): boolean {
  return router._def._config.transformer === DEFAULT_TRANSFORMER;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && !Array.isArray(value) && typeof value === 'object';
}

export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return isObject(value) && Symbol.asyncIterator in value;
}

/** A procedure giving up on its aborted signal (wrapped by tRPC or not). */
export function isAbort(cause: unknown): boolean {
  const e = cause instanceof TRPCError ? cause.cause : cause;
  return isObject(e) && e.name === 'AbortError';
}

/** tRPC's jsonEncoder.decode: JSON in text frames; a binary frame (null here) is refused. */
export function decode(text: string | null): unknown {
  if (text === null) throw new Error('jsonEncoder received binary data. JSON uses text frames. Use a binary encoder for binary data.');
  return JSON.parse(text);
}

/** The connection params message: `{ method: 'connectionParams', data: { key: string } | null }`. */
export function connectionParams(text: string | null): ConnectionParams {
  let msg: unknown;
  try {
    msg = decode(text);
    if (!isObject(msg)) throw new Error('Message was not an object');
  } catch (cause) {
    throw new TRPCError({ code: 'PARSE_ERROR', message: 'Malformed TRPCConnectionParamsMessage', cause });
  }
  return parseConnectionParamsFromUnknown(msg.data);
}

export interface MessageRate {
  perSecond: number;
  clock: Clock;
}

/** A socket's count of messages in its current one-second window (kept on the connection object). */
export interface RateWindow {
  sent: number;
  windowStart: number;
}

/**
 * Counts one message against the socket's window: true while within `rate.perSecond`; the first
 * message over it calls `over` (which closes the socket), and it and every later one are false.
 */
export function withinRate(w: RateWindow, rate: MessageRate, over: () => void): boolean {
  const now = rate.clock.now();
  if (now - w.windowStart >= 1000) {
    w.windowStart = now;
    w.sent = 0;
  }
  if (++w.sent <= rate.perSecond) return true;
  if (w.sent === rate.perSecond + 1) over();
  return false;
}
