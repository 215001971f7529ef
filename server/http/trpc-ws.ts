/**
 * tRPC over WebSocket: the protocol of @trpc/server/adapters/ws 11 (what wsLink speaks, so the
 * clients are unchanged), served with as little as possible per connection and subscription.
 *
 * Why not the stock adapter: for each idle connection with one subscription it holds about
 * 10 KB of JS heap (some 30 closures and 20 promises: an async function per request, `using`
 * stacks, an Unpromise race per awaited item, two AbortControllers, the upgrade request). Here a
 * connection is one object, a subscription one object with its AbortController, and a waiting
 * subscription one pending next() of its iterator. Procedures run through tRPC's own
 * callProcedure, and errors take the router's error shape.
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
 *    closed socket stops its subscriptions.
 * tests/integration/trpc-ws.test.ts replays one session against both and compares the bytes.
 */
import { TRPCError, type AnyRouter, type inferRouterContext } from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import type { TRPCClientOutgoingMessage } from '@trpc/server/rpc';
import {
  callProcedure,
  defaultTransformer,
  getErrorShape,
  getTRPCErrorFromUnknown,
  isAsyncIterable,
  isObject,
  isTrackedEnvelope,
  parseConnectionParamsFromUnknown,
  parseTRPCMessage,
  transformTRPCResponse,
} from '@trpc/server/unstable-core-do-not-import';
import type { Socket } from 'node:net';
import type { RawData, WebSocket } from 'ws';
import type { Clock } from '../shared/clock';
import { RawJson } from '../shared/raw-json';
import { LimitExceededError } from '../state/errors';
import { limitError } from './limits';
import { batchWrites } from '../shared/write-batch';

type Id = number | string;
type CallType = 'query' | 'mutation' | 'subscription';
export type ConnectionParams = Record<string, string | undefined> | null;

export interface TrpcErrorInfo {
  error: TRPCError;
  type: CallType | 'unknown';
  path: string | undefined;
  input: unknown;
  ctx: unknown;
}

export interface TrpcWsOptions<TRouter extends AnyRouter> {
  router: TRouter;
  /** The context of a connection, from its connection params (null without); a throw refuses the connection. */
  createContext: (params: ConnectionParams, socket: WebSocket) => Promise<inferRouterContext<TRouter>>;
  /** Every error answered to a client (as the stock adapter's onError). */
  onError?: (info: TrpcErrorInfo) => void;
  /** Live subscriptions one socket may hold; one more is refused (TOO_MANY_SUBSCRIPTIONS). */
  maxSubscriptions: number;
  /** Calls in one message; a longer array is refused whole (BATCH_TOO_LARGE). */
  maxBatch: number;
  /** A bound above was hit (for counting; the client has been answered, or its socket closed). */
  onRefused?: (reason: 'BATCH_TOO_LARGE' | 'TOO_MANY_SUBSCRIPTIONS' | 'TOO_MANY_MESSAGES') => void;
  /** Messages a socket may send per second; one more closes it (CLOSE_TOO_MANY_MESSAGES). */
  messageRate?: { perSecond: number; clock: Clock };
}

/** Close code for a socket that sent more messages per second than allowed (private range, as HTTP 429). */
export const CLOSE_TOO_MANY_MESSAGES = 4429;

const OPEN = 1;
const CONNECTION = Symbol('trpc.connection');
type Served = WebSocket & { [CONNECTION]: Connection };
// What a client gets when even the error shape cannot be built or sent.
const FALLBACK_SHAPE = { code: -32603, message: 'Internal server error', data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 } };

/** One per server: serves tRPC on each socket given to accept(). */
export class TrpcWsServer<TRouter extends AnyRouter = AnyRouter> {
  /** The router has no transformer: replies are encoded as they are, and RawJson data goes out verbatim. */
  readonly plain: boolean;

  constructor(readonly opts: TrpcWsOptions<TRouter>) {
    this.plain = opts.router._def._config.transformer === defaultTransformer;
  }

  /** Serve tRPC on an open socket; `expectParams`: its URL asked for connectionParams. */
  accept(ws: WebSocket, expectParams: boolean): void {
    const conn = new Connection(this as TrpcWsServer, ws);
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
      return getErrorShape({ config: this.opts.router._def._config, error, type, path, input, ctx: ctx as never });
    } catch (cause) {
      this.report({ error: getTRPCErrorFromUnknown(cause), type, path, input, ctx }, true);
      return FALLBACK_SHAPE;
    }
  }

  /** Tells onError; a failure of our own handling with no onError to tell is logged, never dropped. */
  report(info: TrpcErrorInfo, internal = false): void {
    const log = () => console.error('[trpc-ws]', info.error);
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

class Connection {
  ctx: unknown = undefined;
  /** Messages in the current one-second window, and when it began (messageRate). */
  private sent = 0;
  private windowStart = 0;
  /** Settles once the context is made (null) or refused (the error); null until connection params arrive. */
  ready: Promise<TRPCError | null> | null = null;
  subs: Map<Id, Subscription> | null = null;

  constructor(
    readonly server: TrpcWsServer,
    readonly ws: WebSocket,
  ) {}

  start(params: () => ConnectionParams): void {
    this.ready = this.createContext(params);
  }

  private async createContext(params: () => ConnectionParams): Promise<TRPCError | null> {
    try {
      this.ctx = await this.server.opts.createContext(params(), this.ws);
      return null;
    } catch (cause) {
      const error = getTRPCErrorFromUnknown(cause);
      this.server.report({ error, type: 'unknown', path: undefined, input: undefined, ctx: this.ctx });
      this.send({ id: null, error: this.server.shape(error, 'unknown', undefined, undefined, this.ctx) });
      setImmediate(() => this.ws.close());
      return error;
    }
  }

  /** Sends a reply while the socket is open; one that cannot be encoded becomes the fallback error. */
  send(reply: { id: Id | null; jsonrpc?: '2.0'; result?: unknown; error?: unknown }): void {
    if (this.ws.readyState !== OPEN) return;
    batchWrites((this.ws as unknown as { _socket?: Socket })._socket);
    try {
      this.ws.send(JSON.stringify(this.server.plain ? reply : transformTRPCResponse(this.server.opts.router._def._config as never, reply as never)));
    } catch (cause) {
      this.server.report({ error: getTRPCErrorFromUnknown(cause), type: 'unknown', path: undefined, input: undefined, ctx: this.ctx }, true);
      if (reply.error === FALLBACK_SHAPE) return;
      this.send({ id: reply.id, jsonrpc: reply.jsonrpc, error: FALLBACK_SHAPE });
    }
  }

  /**
   * Sends `head + json + tail` as one message while the socket is open: a tracked item whose data
   * is already JSON (RawJson), with the bytes JSON.stringify would give for the same reply.
   */
  sendRaw(head: string, json: string, tail: string): void {
    if (this.ws.readyState !== OPEN) return;
    batchWrites((this.ws as unknown as { _socket?: Socket })._socket);
    this.ws.send(head + json + tail);
  }

  /** Answers a call that failed, with the router's error shape. */
  fail(id: Id | null, jsonrpc: '2.0' | undefined, cause: unknown, type: CallType | 'unknown', path?: string, input?: unknown): void {
    const error = getTRPCErrorFromUnknown(cause);
    this.server.report({ error, type, path, input, ctx: this.ctx });
    this.send({ id, jsonrpc, error: this.server.shape(error, type, path, input, this.ctx) });
  }

  /** Counts a message; false once the socket is over its rate (it is then closed). */
  private withinRate(): boolean {
    const rate = this.server.opts.messageRate;
    if (!rate) return true;
    const now = rate.clock.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.sent = 0;
    }
    if (++this.sent <= rate.perSecond) return true;
    if (this.sent === rate.perSecond + 1) {
      this.server.opts.onRefused?.('TOO_MANY_MESSAGES');
      this.ws.close(CLOSE_TOO_MANY_MESSAGES, 'too many messages');
    }
    return false;
  }

  message(data: RawData, isBinary: boolean): void {
    if (!this.withinRate()) return;
    if (!Buffer.isBuffer(data)) {
      const error = new TRPCError({ code: 'UNPROCESSABLE_CONTENT', message: 'Unexpected WebSocket message format' });
      this.send({ id: null, error: this.server.shape(error, 'unknown', undefined, undefined, this.ctx) });
      return;
    }
    const text = isBinary ? null : data.toString('utf8');
    if (text === 'PONG') return;
    if (text === 'PING') return void this.ws.send('PONG');
    if (!this.ready) {
      this.start(() => connectionParams(text));
      return;
    }
    let calls: TRPCClientOutgoingMessage[];
    try {
      const json = decode(text);
      const transformer = this.server.opts.router._def._config.transformer;
      calls = (Array.isArray(json) ? json : [json]).map((raw) => parseTRPCMessage(raw, transformer));
    } catch (cause) {
      const error = new TRPCError({ code: 'PARSE_ERROR', cause });
      this.send({ id: null, error: this.server.shape(error, 'unknown', undefined, undefined, this.ctx) });
      return;
    }
    if (calls.length > this.server.opts.maxBatch) {
      this.server.opts.onRefused?.('BATCH_TOO_LARGE');
      const error = limitError(new LimitExceededError('BATCH_TOO_LARGE', { max: this.server.opts.maxBatch }));
      this.send({ id: null, error: this.server.shape(error, 'unknown', undefined, undefined, this.ctx) });
      return;
    }
    calls.forEach((call, batchIndex) => this.call(call, batchIndex));
  }

  private call(msg: TRPCClientOutgoingMessage, batchIndex: number): void {
    const { id, jsonrpc } = msg;
    if (id === null) {
      this.fail(id, jsonrpc, new TRPCError({ code: 'PARSE_ERROR', message: '`id` is required' }), 'unknown');
      return;
    }
    if (msg.method === 'subscription.stop') {
      this.subs?.get(id)?.stop();
      return;
    }
    const { path, lastEventId } = msg.params;
    let input: unknown = msg.params.input;
    if (lastEventId !== undefined) input = isObject(input) ? { ...input, lastEventId } : (input ?? { lastEventId });
    if (msg.method !== 'subscription') {
      void this.answer(id, jsonrpc, msg.method, path, input, batchIndex);
      return;
    }
    if (this.subs?.has(id)) {
      this.fail(id, jsonrpc, new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` }), 'subscription', path, input);
      return;
    }
    if ((this.subs?.size ?? 0) >= this.server.opts.maxSubscriptions) {
      this.server.opts.onRefused?.('TOO_MANY_SUBSCRIPTIONS');
      const error = limitError(new LimitExceededError('TOO_MANY_SUBSCRIPTIONS', { max: this.server.opts.maxSubscriptions }));
      this.fail(id, jsonrpc, error, 'subscription', path, input);
      return;
    }
    const sub = new Subscription(this, id, jsonrpc, path, input);
    (this.subs ??= new Map()).set(id, sub);
    void sub.start(batchIndex);
  }

  /** A query or mutation: one answer. */
  private async answer(id: Id, jsonrpc: '2.0' | undefined, type: 'query' | 'mutation', path: string, input: unknown, batchIndex: number) {
    let result: unknown;
    try {
      const refused = await this.ready;
      if (refused) throw refused;
      result = await callProcedure({
        router: this.server.opts.router,
        path,
        getRawInput: () => Promise.resolve(input),
        ctx: this.ctx,
        type,
        signal: undefined,
        batchIndex,
      });
      if (isAsyncIterable(result) || isObservable(result)) {
        throw new TRPCError({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: `Cannot return an async iterable or observable from a ${type} procedure with WebSockets`,
        });
      }
    } catch (cause) {
      this.fail(id, jsonrpc, cause, type, path, input);
      return;
    }
    this.send({ id, jsonrpc, result: { type: 'data', data: result } });
  }

  /** The socket closed: every subscription stops. */
  closed(): void {
    const subs = this.subs;
    this.subs = null;
    for (const s of subs?.values() ?? []) s.stop();
  }
}

class Subscription {
  private readonly controller = new AbortController();
  private iterator: AsyncIterator<unknown> | null = null;
  private ended = false;
  /** The part of every raw tracked reply before the item's id (see sendTracked), made once. */
  private rawPrefix: string | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly id: Id,
    private readonly jsonrpc: '2.0' | undefined,
    private readonly path: string,
    private readonly input: unknown,
  ) {}

  async start(batchIndex: number): Promise<void> {
    const conn = this.conn;
    let iterator: AsyncIterator<unknown>;
    try {
      const refused = await conn.ready;
      if (refused) throw refused;
      if (this.ended || conn.ws.readyState !== OPEN) return this.end(true);
      const result: unknown = await callProcedure({
        router: conn.server.opts.router,
        path: this.path,
        getRawInput: () => Promise.resolve(this.input),
        ctx: conn.ctx,
        type: 'subscription',
        signal: this.controller.signal,
        batchIndex,
      });
      if (!isAsyncIterable(result) && !isObservable(result)) {
        throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `Subscription ${this.path} did not return an observable or a AsyncGenerator` });
      }
      iterator = (isObservable(result) ? observableToAsyncIterable(result, this.controller.signal) : result)[Symbol.asyncIterator]();
    } catch (cause) {
      // Stopped while it was starting: a procedure giving up on its aborted signal is no error.
      if (this.ended || (this.controller.signal.aborted && isAbort(cause))) return this.end(true);
      conn.fail(this.id, this.jsonrpc, cause, 'subscription', this.path, this.input);
      return this.end(false);
    }
    this.iterator = iterator;
    // Stopped (or the socket closed) while the procedure ran: release what it opened.
    if (this.ended) return void this.dispose(iterator);
    if (conn.ws.readyState !== OPEN) return this.end(true);
    conn.send({ id: this.id, jsonrpc: this.jsonrpc, result: { type: 'started' } });
    this.pull();
  }

  /** The client sent `subscription.stop`, or the socket closed. */
  stop(): void {
    if (!this.controller.signal.aborted) this.controller.abort();
    this.end(true);
  }

  private pull(): void {
    let next: Promise<IteratorResult<unknown>>;
    try {
      next = Promise.resolve(this.iterator!.next());
    } catch (cause) {
      return this.onFailure(cause);
    }
    void next.then(this.onItem, this.onFailure);
  }

  private readonly onItem = (r: IteratorResult<unknown>): void => {
    if (this.ended) return;
    if (r.done) return this.end(true, true);
    const value = r.value;
    if (isTrackedEnvelope(value)) {
      const [id, data] = value;
      if (data instanceof RawJson && this.conn.server.plain) this.sendTracked(id, data.json);
      else this.conn.send({ id: this.id, jsonrpc: this.jsonrpc, result: { type: 'data', data: { id, data }, id } });
    } else {
      this.conn.send({ id: this.id, jsonrpc: this.jsonrpc, result: { type: 'data', data: value } });
    }
    this.pull();
  };

  /**
   * A tracked item whose data is JSON already, as JSON.stringify would write the reply (same key
   * order): `{"id":<sub>,"jsonrpc":"2.0","result":{"type":"data","data":{"id":<id>,"data":<json>},"id":<id>}}`.
   */
  private sendTracked(id: string, json: string): void {
    this.rawPrefix ??= `{"id":${JSON.stringify(this.id)}${this.jsonrpc === undefined ? '' : `,"jsonrpc":${JSON.stringify(this.jsonrpc)}`},"result":{"type":"data","data":{"id":`;
    const quoted = JSON.stringify(id);
    this.conn.sendRaw(`${this.rawPrefix}${quoted},"data":`, json, `},"id":${quoted}}}`);
  }

  private readonly onFailure = (cause: unknown): void => {
    if (this.ended) return void this.reportLate(cause);
    // A failure while running is answered, then `stopped` (one before `started` is the last word).
    this.conn.fail(this.id, this.jsonrpc, cause, 'subscription', this.path, this.input);
    this.end(true);
  };

  /**
   * Ends it, once: forgets it, aborts its signal unless the iterator finished by itself
   * (`completed`), returns the iterator (its cleanup runs), then tells the client `stopped`
   * when `stopped`.
   */
  private end(stopped: boolean, completed = false): void {
    if (this.ended) return;
    this.ended = true;
    if (this.conn.subs?.get(this.id) === this) this.conn.subs.delete(this.id);
    if (!completed && !this.controller.signal.aborted) this.controller.abort();
    const iterator = this.iterator;
    this.iterator = null;
    void this.dispose(iterator).then(() => {
      if (stopped) this.conn.send({ id: this.id, jsonrpc: this.jsonrpc, result: { type: 'stopped' } });
    });
  }

  private async dispose(iterator: AsyncIterator<unknown> | null): Promise<void> {
    try {
      await iterator?.return?.();
    } catch (cause) {
      this.reportLate(cause);
    }
  }

  /** A failure after the end (a cleanup that throws): told to onError, unless it is the abort itself. */
  private reportLate(cause: unknown): void {
    if (isAbort(cause)) return;
    this.conn.server.report({ error: getTRPCErrorFromUnknown(cause), type: 'subscription', path: this.path, input: this.input, ctx: this.conn.ctx });
  }
}

/** The connection params message: `{ method: 'connectionParams', data: { key: string } | null }`. */
function connectionParams(text: string | null): ConnectionParams {
  let msg: unknown;
  try {
    msg = decode(text);
    if (!isObject(msg)) throw new Error('Message was not an object');
  } catch (cause) {
    throw new TRPCError({ code: 'PARSE_ERROR', message: 'Malformed TRPCConnectionParamsMessage', cause });
  }
  return parseConnectionParamsFromUnknown(msg.data);
}

function decode(text: string | null): unknown {
  if (text === null) throw new Error('jsonEncoder received binary data. JSON uses text frames. Use a binary encoder for binary data.');
  return JSON.parse(text);
}

function isAbort(cause: unknown): boolean {
  const e = cause instanceof TRPCError ? cause.cause : cause;
  return isObject(e) && e.name === 'AbortError';
}
