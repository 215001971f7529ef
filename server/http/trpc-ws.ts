/**
 * tRPC over WebSocket: the protocol of @trpc/server/adapters/ws 11 (what wsLink speaks, so tRPC's
 * own clients work with it as they are), served with as little as possible per connection and
 * subscription.
 *
 * Why not the stock adapter: for each idle connection with one subscription it holds about
 * 10 KB of JS heap (some 30 closures and 20 promises: an async function per request, `using`
 * stacks, an Unpromise race per awaited item, two AbortControllers, the upgrade request). Here a
 * connection is one object (./trpc-ws-connection.ts), a subscription one object with its
 * AbortController (./trpc-ws-subscription.ts), and a waiting subscription one pending next() of
 * its iterator. Procedures run through tRPC's own callTRPCProcedure, and errors take the router's
 * error shape. Only @trpc/server's public exports are used. The stock adapter stays one setting
 * away (WS_ADAPTER=stock, ./trpc-ws-stock.ts).
 *
 * The protocol:
 *  - text frames of JSON; "PING" is answered "PONG", "PONG" is ignored;
 *  - with `?connectionParams=1` the first message is `{ method: 'connectionParams', data }` and
 *    the context is made from it, otherwise at once with null params. A context that cannot be
 *    made is answered `{ id: null, error }` and the socket is closed;
 *  - then messages (or arrays of them) `{ id, jsonrpc?, method, params: { path, input,
 *    lastEventId? } }`, method `query`, `mutation`, `subscription` or `subscription.stop`;
 *    `lastEventId` is merged into the input;
 *  - answers `{ id, jsonrpc, result: { type: 'data', data } }` or `{ id, jsonrpc, error }`. A
 *    subscription answers `started`, then `data` per item (a tracked item also carries its `id`,
 *    and data `{ id, data }`), then `stopped` once it ends (after `subscription.stop`, and after
 *    the error of an iterator that failed); one that fails to start gets only the error. A
 *    closed socket stops its subscriptions and aborts the signal of its queries and mutations.
 * tests/integration/trpc-ws.test.ts replays one session against both and compares the bytes.
 */
import type { Socket } from 'node:net';
import { getTRPCErrorFromUnknown, getTRPCErrorShape, type AnyRouter, type inferRouterContext, type TRPCError } from '@trpc/server';
import type { RawData, WebSocket } from 'ws';
import { Connection, type CallType } from './trpc-ws-connection';
import { FALLBACK_SHAPE, hasPlainTransformer, type ConnectionParams, type MessageRate } from './trpc-ws-protocol';
import { WriteBatcher } from '../shared/write-batch';

export { CLOSE_TOO_MANY_MESSAGES, type ConnectionParams } from './trpc-ws-protocol';

export interface TrpcErrorInfo {
  error: TRPCError;
  type: CallType | 'unknown';
  path: string | undefined;
  input: unknown;
  ctx: unknown;
}

/** Where a failure of the handler's own is written when onError is missing or throws (a pino logger). */
export interface TrpcWsLogger {
  error(obj: object, msg: string): void;
}

export type RefusalReason = 'BATCH_TOO_LARGE' | 'TOO_MANY_SUBSCRIPTIONS' | 'TOO_MANY_MESSAGES';

export interface TrpcWsOptions<TRouter extends AnyRouter> {
  router: TRouter;
  /** The context of a connection, from its connection params (null without); a throw refuses the connection. */
  createContext: (params: ConnectionParams, socket: WebSocket) => Promise<inferRouterContext<TRouter>>;
  /** Every error answered to a client (as the stock adapter's onError). */
  onError?: (info: TrpcErrorInfo) => void;
  log: TrpcWsLogger;
  /** Live subscriptions one socket may hold; one more is refused (TOO_MANY_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** Calls in one message; a longer array is refused whole (BATCH_TOO_LARGE). */
  maxBatch: number;
  /** A bound above was hit (for counting; the client has been answered, or its socket closed). */
  onRefused?: (reason: RefusalReason) => void;
  /** Messages a socket may send per second; one more closes it (CLOSE_TOO_MANY_MESSAGES). */
  messageRate?: MessageRate;
  /** Coalesces each socket's writes within a turn (shared with the state scripts' Redis writes). */
  writes?: WriteBatcher;
}

const CONNECTION = Symbol('trpc.connection');
type Served = WebSocket & { [CONNECTION]: Connection };

/** One per server: serves tRPC on each socket given to accept(). */
export class TrpcWsServer<TRouter extends AnyRouter = AnyRouter> {
  /** The router has no transformer: replies are encoded as they are, and RawJson data goes out verbatim. */
  readonly plain: boolean;
  readonly writes: WriteBatcher;

  constructor(readonly opts: TrpcWsOptions<TRouter>) {
    this.plain = hasPlainTransformer(opts.router);
    this.writes = opts.writes ?? new WriteBatcher();
  }

  /**
   * Serve tRPC on an open socket; `expectParams`: its URL asked for connectionParams; `tcp`: the
   * socket it was upgraded from (`req.socket`, or the one of the 'upgrade' event), whose writes
   * of one event-loop turn are sent together.
   */
  accept(ws: WebSocket, expectParams: boolean, tcp: Socket | undefined): void {
    const conn = new Connection(this as TrpcWsServer, ws, tcp);
    (ws as Served)[CONNECTION] = conn;
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.on('error', onSocketError);
    if (!expectParams) conn.start(() => null);
  }

  /**
   * Tells the client why, as a connection-level error (`{ id: null, error }`, what a refused
   * context gets: the client renews its session on UNAUTHORIZED), then closes the socket.
   */
  endWith(ws: WebSocket, error: TRPCError, code: number, reason: string): void {
    const conn = (ws as Partial<Served>)[CONNECTION];
    if (conn) conn.send({ id: null, error: this.shape(error, 'unknown', undefined, undefined, conn.ctx) });
    ws.close(code, reason);
  }

  /** The error as the client sees it: the router's error shape (formatter included). */
  shape(error: TRPCError, type: CallType | 'unknown', path: string | undefined, input: unknown, ctx: unknown): unknown {
    try {
      return getTRPCErrorShape({ config: this.opts.router._def._config, error, type, path, input, ctx: ctx as never });
    } catch (cause) {
      this.report({ error: getTRPCErrorFromUnknown(cause), type, path, input, ctx }, true);
      return FALLBACK_SHAPE;
    }
  }

  /**
   * Tells onError. A failure of our own handling (`internal`: an error shape that cannot be
   * built, a reply that cannot be sent) goes to the log when there is no onError, or when
   * onError throws: it is never dropped.
   */
  report(info: TrpcErrorInfo, internal = false): void {
    const log = () => this.opts.log.error({ err: info.error, type: info.type, path: info.path }, 'tRPC WebSocket handling failed');
    if (!this.opts.onError) {
      if (internal) log();
      return;
    }
    try {
      this.opts.onError(info);
    } catch {
      log();
    }
  }
}

function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const conn = (this as Served)[CONNECTION];
  try {
    conn.message(data, isBinary);
  } catch (cause) {
    // Never into ws's receive loop (an exception there would be uncaught).
    conn.server.report({ error: getTRPCErrorFromUnknown(cause), type: 'unknown', path: undefined, input: undefined, ctx: conn.ctx }, true);
  }
}

function onClose(this: WebSocket): void {
  (this as Served)[CONNECTION].closed();
}

function onSocketError(this: WebSocket, cause: Error): void {
  const conn = (this as Served)[CONNECTION];
  conn.server.report({ error: getTRPCErrorFromUnknown(cause), type: 'unknown', path: undefined, input: undefined, ctx: conn.ctx });
}
