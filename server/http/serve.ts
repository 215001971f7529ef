/**
 * The HTTP side of a running server, given the services the composition root (server/app.ts)
 * built: the public server (client, tRPC over HTTP, health, webhooks) with tRPC over WebSocket
 * on it, the optional metrics server, the socket guard, and revoked sessions' sockets closing on
 * every process. `serveHttp` listens; `close` stops taking work and tells clients to reconnect.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RedisClient } from '../infra/redis';
import type { WebSocket } from 'ws';
import type { Services } from '../services';
import { RateLimitedError, ipKey } from '../safety/rate-limits';
import { LimitExceededError } from '../state/errors';
import { WindowCounter } from '../shared/window-counter';
import type { WriteBatcher } from '../shared/write-batch';
import { sessionEnded, wsContext } from '../trpc/context';
import { appRouter } from '../trpc/router';
import { limitError } from './limits';
import { listen } from './listen';
import { createRoutes, metricsHandler } from './routes';
import { CLOSE_SESSION_EXPIRED, CLOSE_SESSION_REVOKED, SocketGuard } from './socket-guard';
import { logTrpcWsError } from './trpc-errors';
import { attachWebSocket } from './ws';

export interface HttpSide {
  port: number;
  /** How a socket of a revoked session ends, on every path: told why, then closed. */
  endRevoked: (socket: WebSocket) => void;
  /** Stop listening and tell every client to reconnect elsewhere (in-flight requests go on). */
  stop(): void;
  /** Close what is left (after the services have drained). */
  closeAll(): void;
}

export async function serveHttp(svc: Services, sub: RedisClient, clientDir: string, writes: WriteBatcher): Promise<HttpSide> {
  const { cfg, clock, presence, refusals, rooms, store } = svc;
  // One count per client address for plain requests and WebSocket upgrades alike.
  const ipRate = new WindowCounter(cfg.HTTP_RATE_PER_IP, 1000, clock);
  const server: Server = createServer(
    { maxHeaderSize: 16 * 1024 },
    createRoutes(svc, {
      router: appRouter,
      clientDir,
      connections: () => ws.connections,
      livekitClientUrl: rooms.livekit?.gateway.clientUrl,
      rate: ipRate,
    }),
  );
  // A request Node cannot parse (bad request line, oversized headers) is answered 400 and counted.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A peer that hung up is not a malformed request.
    if (err.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
    refusals.count('malformed_http');
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  const metricsServer = cfg.METRICS_PORT === undefined ? null : createServer(metricsHandler(svc, () => ws.connections));

  const endRevoked = (socket: WebSocket) => ws.endWith(socket, sessionEnded('revoked'), CLOSE_SESSION_REVOKED, 'session ended');
  const guard = new SocketGuard({
    maxPerIp: cfg.WS_MAX_PER_IP,
    authTimeoutMs: cfg.WS_AUTH_TIMEOUT_MS,
    trustProxy: cfg.TRUST_PROXY,
    clock,
    onExpired: (socket) => ws.endWith(socket, sessionEnded('expired'), CLOSE_SESSION_EXPIRED, 'session expired'),
    onRefused: (reason) => refusals.count(reason),
    rate: ipRate,
  });
  const ws = attachWebSocket(server, {
    router: appRouter,
    createContext: async (params, socket) => {
      const ip = guard.addressOf(socket);
      // Connections per address over every process (the guard's counts are this process's).
      await svc.limits.consume('connect', ip).catch((e: unknown) => {
        if (e instanceof RateLimitedError) {
          refusals.count('RATE_LIMITED');
          void svc.challenges.noteRefusal(ipKey(svc.sessionSecret, ip));
        }
        throw e instanceof RateLimitedError ? limitError(e) : e;
      });
      const ctx = await wsContext(svc, params, ip);
      if (ctx.session && presence.connections(ctx.session.userId) >= cfg.WS_MAX_PER_USER) {
        refusals.count('too_many_sockets_per_user');
        throw limitError(new LimitExceededError('TOO_MANY_CONNECTIONS', { max: cfg.WS_MAX_PER_USER }));
      }
      // A socket that closed while its token was checked never counts as present.
      if (ctx.session && socket.readyState === socket.OPEN) presence.attach(ctx.session.userId, socket);
      guard.authenticated(socket, ctx.session?.expiresAt ?? null);
      return ctx;
    },
    maxPayload: cfg.WS_MAX_PAYLOAD,
    maxSubscriptions: cfg.WS_MAX_SUBSCRIPTIONS,
    maxBatch: cfg.TRPC_MAX_BATCH,
    onRefused: (reason) => refusals.count(reason),
    messageRate: { perSecond: cfg.WS_MESSAGES_PER_SECOND, clock },
    onError: logTrpcWsError(svc.log),
    log: svc.log,
    adapter: cfg.WS_ADAPTER,
    allowedOrigins: cfg.ALLOWED_ORIGINS,
    trustProxy: cfg.TRUST_PROXY,
    guard,
    pingMs: cfg.HEARTBEAT_INTERVAL_MS,
    timeoutMs: cfg.HEARTBEAT_TIMEOUT_MS,
    writes,
  });

  // A revoked session's sockets close on every process at once (StateStore.revoke publishes).
  await sub.subscribe(store.keys.revocations());
  sub.on('message', (channel: string, uid: string) => {
    if (channel === store.keys.revocations()) presence.closeAll(uid, endRevoked);
  });

  try {
    await listen(server, cfg.PORT, cfg.HOST);
    if (metricsServer) await listen(metricsServer, cfg.METRICS_PORT!, cfg.HOST);
  } catch (e) {
    ws.close(1012, 'server failed to start');
    server.close();
    metricsServer?.close();
    throw e;
  }
  return {
    port: (server.address() as AddressInfo).port,
    endRevoked,
    stop() {
      server.close();
      metricsServer?.close();
      ws.broadcastReconnect();
      ws.close(1012, 'server restarting');
    },
    closeAll() {
      server.closeAllConnections();
      metricsServer?.closeAllConnections();
    },
  };
}
