/**
 * One WebSocket served by TrpcWsServer (./trpc-ws.ts): its context, its message rate, its live
 * subscriptions and the abort controllers of its queries and mutations in flight, all on one
 * object.
 */
import type { Socket } from 'node:net';
import { callTRPCProcedure, getTRPCErrorFromUnknown, transformTRPCResponse, TRPCError } from '@trpc/server';
import { isObservable } from '@trpc/server/observable';
import { parseTRPCMessage, type TRPCClientOutgoingMessage } from '@trpc/server/rpc';
import type { RawData, WebSocket } from 'ws';
import { LimitExceededError } from '../state/errors';
import { limitError } from './limits';
import type { TrpcWsServer } from './trpc-ws';
import {
  CLOSE_TOO_MANY_MESSAGES,
  connectionParams,
  decode,
  FALLBACK_SHAPE,
  isAbort,
  isAsyncIterable,
  isObject,
  OPEN,
  withinRate,
  type ConnectionParams,
  type RateWindow,
} from './trpc-ws-protocol';
import { Subscription } from './trpc-ws-subscription';

export type Id = number | string;
export type CallType = 'query' | 'mutation' | 'subscription';
export interface Reply {
  id: Id | null;
  jsonrpc?: '2.0';
  result?: unknown;
  error?: unknown;
}

export class Connection implements RateWindow {
  ctx: unknown = undefined;
  /** Messages in the current one-second window, and when it began (messageRate). */
  sent = 0;
  windowStart = 0;
  /** Settles once the context is made (null) or refused (the error); null until connection params arrive. */
  ready: Promise<TRPCError | null> | null = null;
  subs: Map<Id, Subscription> | null = null;
  /** Queries and mutations running: their signals are aborted when the socket closes. */
  private calls: Set<AbortController> | null = null;

  constructor(
    readonly server: TrpcWsServer,
    readonly ws: WebSocket,
    private readonly tcp: Socket | undefined,
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
  send(reply: Reply): void {
    if (this.ws.readyState !== OPEN) return;
    this.server.writes.batch(this.tcp);
    try {
      const config = this.server.opts.router._def._config;
      this.ws.send(JSON.stringify(this.server.plain ? reply : transformTRPCResponse(config as never, reply as never)));
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
    this.server.writes.batch(this.tcp);
    this.ws.send(head + json + tail);
  }

  /** Answers a call that failed, with the router's error shape. */
  fail(id: Id | null, jsonrpc: '2.0' | undefined, cause: unknown, type: CallType | 'unknown', path?: string, input?: unknown): void {
    const error = getTRPCErrorFromUnknown(cause);
    this.server.report({ error, type, path, input, ctx: this.ctx });
    this.send({ id, jsonrpc, error: this.server.shape(error, type, path, input, this.ctx) });
  }

  /** A connection-level error (`{ id: null, error }`), told to nobody but the client (as the stock adapter). */
  private refuse(error: TRPCError): void {
    this.send({ id: null, error: this.server.shape(error, 'unknown', undefined, undefined, this.ctx) });
  }

  private readonly overRate = (): void => {
    this.server.opts.onRefused?.('TOO_MANY_MESSAGES');
    this.ws.close(CLOSE_TOO_MANY_MESSAGES, 'too many messages');
  };

  message(data: RawData, isBinary: boolean): void {
    const rate = this.server.opts.messageRate;
    if (rate && !withinRate(this, rate, this.overRate)) return;
    if (!Buffer.isBuffer(data)) return this.refuse(new TRPCError({ code: 'UNPROCESSABLE_CONTENT', message: 'Unexpected WebSocket message format' }));
    const text = isBinary ? null : data.toString('utf8');
    if (text === 'PONG') return;
    if (text === 'PING') return void this.ws.send('PONG');
    if (!this.ready) return this.start(() => connectionParams(text));
    let calls: TRPCClientOutgoingMessage[];
    try {
      const json = decode(text);
      const transformer = this.server.opts.router._def._config.transformer;
      calls = (Array.isArray(json) ? json : [json]).map((raw) => parseTRPCMessage(raw, transformer));
    } catch (cause) {
      return this.refuse(new TRPCError({ code: 'PARSE_ERROR', cause }));
    }
    const { maxBatch } = this.server.opts;
    if (calls.length > maxBatch) {
      this.server.opts.onRefused?.('BATCH_TOO_LARGE');
      return this.refuse(limitError(new LimitExceededError('BATCH_TOO_LARGE', { max: maxBatch })));
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
    const { maxSubscriptions } = this.server.opts;
    if ((this.subs?.size ?? 0) >= maxSubscriptions) {
      this.server.opts.onRefused?.('TOO_MANY_SUBSCRIPTIONS');
      this.fail(id, jsonrpc, limitError(new LimitExceededError('TOO_MANY_SUBSCRIPTIONS', { max: maxSubscriptions })), 'subscription', path, input);
      return;
    }
    const sub = new Subscription(this, id, jsonrpc, path, input);
    (this.subs ??= new Map()).set(id, sub);
    void sub.start(batchIndex);
  }

  /** A query or mutation: one answer. Its signal is aborted if the socket closes first. */
  private async answer(id: Id, jsonrpc: '2.0' | undefined, type: 'query' | 'mutation', path: string, input: unknown, batchIndex: number) {
    const controller = new AbortController();
    (this.calls ??= new Set()).add(controller);
    let result: unknown;
    try {
      const refused = await this.ready;
      if (refused) throw refused;
      result = await callTRPCProcedure({
        router: this.server.opts.router,
        path,
        getRawInput: () => Promise.resolve(input),
        ctx: this.ctx,
        type,
        signal: controller.signal,
        batchIndex,
      });
      if (isAsyncIterable(result) || isObservable(result)) {
        throw new TRPCError({
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: `Cannot return an async iterable or observable from a ${type} procedure with WebSockets`,
        });
      }
    } catch (cause) {
      // The socket closed and the procedure gave up on its signal: nobody to answer, nothing failed.
      if (!(controller.signal.aborted && isAbort(cause))) this.fail(id, jsonrpc, cause, type, path, input);
      return;
    } finally {
      this.calls?.delete(controller);
    }
    this.send({ id, jsonrpc, result: { type: 'data', data: result } });
  }

  /** The socket closed: every subscription stops, and every call in flight is aborted. */
  closed(): void {
    const subs = this.subs;
    const calls = this.calls;
    this.subs = null;
    this.calls = null;
    for (const s of subs?.values() ?? []) s.stop();
    for (const c of calls ?? []) c.abort();
  }
}
