/**
 * One live subscription of a Connection (./trpc-ws-connection.ts): its AbortController and its
 * iterator, pulled one item at a time (a waiting subscription is one pending next()).
 */
import { callTRPCProcedure, getTRPCErrorFromUnknown, isTrackedEnvelope, TRPCError } from '@trpc/server';
import { isObservable, observableToAsyncIterable } from '@trpc/server/observable';
import { RawJson } from '../shared/raw-json';
import type { Connection, Id } from './trpc-ws-connection';
import { isAbort, isAsyncIterable, OPEN } from './trpc-ws-protocol';

export class Subscription {
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
      const result: unknown = await callTRPCProcedure({
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
