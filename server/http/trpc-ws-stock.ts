/**
 * WS_ADAPTER=stock: tRPC's own applyWSSHandler (@trpc/server/adapters/ws) behind the same edge as
 * our handler, for when ours is in doubt. What it keeps of our bounds:
 *
 * - per-address sockets, the Origin check and keep-alive live at the upgrade (./ws.ts) and apply
 *   as they are; the per-user socket bound, the authentication timeout and session expiry are in
 *   createContext and the SocketGuard (app.ts), which the stock adapter calls the same way;
 * - calls per message: its `maxBatchSize` (answered per call id rather than once with id null;
 *   the error formatter still names it BATCH_TOO_LARGE);
 * - messages per second: the message listeners it adds to a socket are put behind a counter
 *   (EventEmitter's public listeners()/off()), so a message over the rate is not served and the
 *   socket is closed with 4429, as ours does.
 *
 * What it cannot do: bound the subscriptions of one socket (WS_MAX_SUBSCRIPTIONS; the per-user
 * bound over all sockets, in the event hub, still holds), and it keeps about 10 KB per idle
 * connection with a subscription, the upgrade request included (see ./trpc-ws.ts).
 */
import { getTRPCErrorShape, transformTRPCResponse, type AnyRouter } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { TRPC_BATCH_TOO_LARGE } from '../trpc/trpc';
import type { TrpcErrorInfo, TrpcWsOptions } from './trpc-ws';
import type { TrpcOnSockets } from './ws';
import { CLOSE_TOO_MANY_MESSAGES, FALLBACK_SHAPE, OPEN, withinRate, type RateWindow } from './trpc-ws-protocol';

type Listener = (this: WebSocket, ...args: unknown[]) => void;

export function stockTrpcWs<TRouter extends AnyRouter>(wss: WebSocketServer, opts: TrpcWsOptions<TRouter>): TrpcOnSockets {
  const config = opts.router._def._config;
  // Each socket's context, for the error formatter when a socket is ended from outside.
  const contexts = new WeakMap<WebSocket, unknown>();
  const report = (info: TrpcErrorInfo) => {
    try {
      if (opts.onError) opts.onError(info);
      else if (info.error.code === 'INTERNAL_SERVER_ERROR')
        opts.log.error({ err: info.error, type: info.type, path: info.path }, 'tRPC WebSocket handling failed');
    } catch {
      opts.log.error({ err: info.error, type: info.type, path: info.path }, 'tRPC WebSocket handling failed');
    }
  };

  applyWSSHandler({
    wss,
    router: opts.router,
    maxBatchSize: opts.maxBatch,
    createContext: async ({ info, res }) => {
      const ctx = await opts.createContext(info.connectionParams, res);
      contexts.set(res, ctx);
      return ctx;
    },
    onError: ({ error, type, path, input, ctx }) => {
      if (type === 'unknown' && error.message === TRPC_BATCH_TOO_LARGE) opts.onRefused?.('BATCH_TOO_LARGE');
      report({ error, type, path, input, ctx });
    },
  });

  /** Puts the message listeners added since `before` behind the socket's message rate. */
  function limitRate(ws: WebSocket, before: readonly unknown[]): void {
    const rate = opts.messageRate;
    if (!rate) return;
    const added = (ws.listeners('message') as Listener[]).filter((l) => !before.includes(l));
    for (const l of added) ws.off('message', l);
    const window: RateWindow = { sent: 0, windowStart: 0 };
    const over = () => {
      opts.onRefused?.('TOO_MANY_MESSAGES');
      ws.close(CLOSE_TOO_MANY_MESSAGES, 'too many messages');
    };
    ws.on('message', function (this: WebSocket, ...args: unknown[]) {
      if (!withinRate(window, rate, over)) return;
      for (const l of added) l.apply(this, args);
    });
  }

  return {
    // A socket just upgraded from `req` goes through ws's `connection` event, as applyWSSHandler expects.
    accept(ws, req) {
      const before = ws.listeners('message');
      wss.emit('connection', ws, req);
      limitRate(ws, before);
    },
    endWith(ws, error, code, reason) {
      if (ws.readyState === OPEN) {
        let shape: unknown;
        try {
          shape = getTRPCErrorShape({ config, error, type: 'unknown', path: undefined, input: undefined, ctx: contexts.get(ws) as never });
        } catch {
          shape = FALLBACK_SHAPE;
        }
        ws.send(JSON.stringify(transformTRPCResponse(config as never, { id: null, error: shape } as never)));
      }
      ws.close(code, reason);
    },
  };
}
