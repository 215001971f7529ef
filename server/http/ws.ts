/**
 * The WebSocket endpoint: tRPC over `ws` on /trpc, holding as little as possible per connection
 * (an idle browser tab is mostly what a server carries).
 *
 * - tRPC's protocol is served by TrpcWsServer (./trpc-ws.ts), not the stock adapter: a
 *   connection and a subscription are an object each, and the upgrade request is not kept.
 *   WS_ADAPTER=stock serves it with tRPC's applyWSSHandler instead (./trpc-ws-stock.ts), behind
 *   the same upgrade checks and keep-alive.
 * - Keep-alive: KeepAlive, WebSocket ping frames from one interval for all sockets. A client's
 *   text "PING" (tRPC's client keep-alive) is still answered "PONG".
 * - No permessage-deflate (also ws's default): a zlib context per socket costs more than it saves
 *   on frames this small.
 */
import type { IncomingMessage, Server } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AnyRouter } from '@trpc/server';
import { WebSocketServer, type WebSocket } from 'ws';
import type { TRPCError } from '@trpc/server';
import { originAllowed } from './security';
import type { SocketGuard } from './socket-guard';
import { KeepAlive } from './keepalive';
import { TrpcWsServer, type TrpcWsOptions } from './trpc-ws';
import { stockTrpcWs } from './trpc-ws-stock';

export interface WsEndpointOptions<TRouter extends AnyRouter> extends TrpcWsOptions<TRouter> {
  /** Who speaks tRPC on the sockets: our lean handler, or tRPC's stock adapter (WS_ADAPTER). */
  adapter: 'lean' | 'stock';
  maxPayload: number;
  allowedOrigins: string[];
  trustProxy: boolean;
  /** Per-address bounds and authentication time (see SocketGuard). */
  guard: SocketGuard;
  /** Ping a quiet socket this often; terminate one not heard from for `timeoutMs`. */
  pingMs: number;
  timeoutMs: number;
}

export interface WsEndpoint {
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Tells every client to reconnect (tRPC's reconnect notification), before a shutdown. */
  broadcastReconnect(): void;
  /** Closes every socket with `code` and stops accepting new ones. */
  close(code: number, reason: string): void;
  /** Tells the client why (a connection-level tRPC error), then closes its socket. */
  endWith(ws: WebSocket, error: TRPCError, code: number, reason: string): void;
}

/** What serves tRPC on the accepted sockets: our handler or the stock adapter. */
export interface TrpcOnSockets {
  accept(ws: WebSocket, req: IncomingMessage, socket: Duplex): void;
  endWith(ws: WebSocket, error: TRPCError, code: number, reason: string): void;
}

const WEBSOCKET_OPEN = 1;
const RECONNECT = JSON.stringify({ id: null, method: 'reconnect' });

export function attachWebSocket<TRouter extends AnyRouter>(server: Server, opts: WsEndpointOptions<TRouter>): WsEndpoint {
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload, perMessageDeflate: false });
  const trpc: TrpcOnSockets = opts.adapter === 'stock' ? stockTrpcWs(wss, opts) : leanTrpcWs(new TrpcWsServer(opts));
  const keepAlive = new KeepAlive(wss.clients, { pingMs: opts.pingMs, timeoutMs: opts.timeoutMs });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removed its own listener before this event: a peer that resets while we refuse it
    // must not become an uncaught error (ws adds its own once the upgrade is accepted).
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path !== '/trpc' && path !== '/trpc/') return void socket.destroy();
    if (!originAllowed(req, opts.allowedOrigins, opts.trustProxy)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const ip = opts.guard.admit(req);
    if (ip === null) {
      socket.end('HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      opts.guard.watch(ws, ip);
      keepAlive.watch(ws);
      trpc.accept(ws, req, socket);
    });
  });

  return {
    get connections() {
      return wss.clients.size;
    },
    broadcastReconnect() {
      for (const c of wss.clients) if (c.readyState === WEBSOCKET_OPEN) c.send(RECONNECT);
    },
    close(code, reason) {
      keepAlive.stop();
      for (const c of wss.clients) c.close(code, reason);
      wss.close();
    },
    endWith: (ws, error, code, reason) => trpc.endWith(ws, error, code, reason),
  };
}

/** Our handler as the endpoint uses it: params expected when the URL asks; writes batched on the upgraded TCP socket. */
function leanTrpcWs(server: TrpcWsServer): TrpcOnSockets {
  return {
    accept(ws, req, socket) {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const expectParams = q >= 0 && new URLSearchParams(url.slice(q + 1)).get('connectionParams') === '1';
      // The TCP socket of the 'upgrade' event, which ws now writes to (a net.Socket from http.Server).
      server.accept(ws, expectParams, socket instanceof Socket ? socket : undefined);
    },
    endWith: (ws, error, code, reason) => server.endWith(ws, error, code, reason),
  };
}
