/**
 * How errors answered over tRPC's WebSocket transport reach the log (the `onError` of either
 * WebSocket adapter).
 *
 * - INTERNAL_SERVER_ERROR is a failure on our side: logged at error level, with its cause chain
 *   (pino's `err` serializer writes the causes). A procedure's own failure is also classified and
 *   logged by the recovery manager at its severity (server/trpc/trpc.ts, the same for HTTP); this
 *   line adds where the transport met it, and is the only line for failures outside any
 *   procedure (a context that threw, an error shape or a reply that could not be made).
 * - Anything else is a client's doing (bad input, no session, a bound hit, a wrong state): at
 *   debug only. Refusals are counted and sampled at the edge (Refusals), so a flood of them
 *   cannot flood the log.
 */
import type { Logger } from '../infra/logger';
import type { TrpcErrorInfo } from './trpc-ws';

export function logTrpcWsError(log: Logger): (info: TrpcErrorInfo) => void {
  return ({ error, type, path }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error, type, path }, `tRPC ${type} ${path ?? '(no path)'} failed over WebSocket`);
    else log.debug({ code: error.code, message: error.message, type, path }, `tRPC ${type} ${path ?? '(no path)'} refused over WebSocket`);
  };
}
