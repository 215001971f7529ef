/**
 * The HTTP side of the server: one handler that routes every request (tRPC, health, metrics,
 * LiveKit webhooks, the client) and never lets one request take the process down.
 *
 * - Every answer carries the security headers (./security.ts).
 * - More than HTTP_RATE_PER_IP requests a second from one address are answered 429 before any
 *   other work (the connection closed).
 * - A URL that cannot be parsed is a 400; a handler that throws is a 500 for that request only,
 *   logged and counted (`uncaught_errors_total{kind="request"}`).
 * - tRPC over HTTP refuses bodies over HTTP_MAX_BODY_BYTES (413) and batches over TRPC_MAX_BATCH
 *   (400), before any procedure runs.
 * - /metrics answers only with `Authorization: Bearer <METRICS_TOKEN>` when that is set, and only
 *   on METRICS_PORT when that is set (see metricsHandler).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AnyRouter } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import { USER_MESSAGES } from '../resilience/messages';
import type { Services } from '../services';
import { httpContext } from '../trpc/context';
import { json, readiness } from './health';
import type { WindowCounter } from '../shared/window-counter';
import { clientAddress, securityHeaders } from './security';
import { staticHandler } from './static';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RoutesOptions {
  router: AnyRouter;
  clientDir: string;
  /** Open WebSocket connections, for the ws_connections gauge. */
  connections: () => number;
  /** The LiveKit URL browsers connect to (allowed by the CSP), when configured. */
  livekitClientUrl?: string;
  /** Requests per client address and second (HTTP_RATE_PER_IP), shared with WebSocket upgrades. */
  rate: WindowCounter;
}

/** The path of a request target (origin-form or absolute-form), or null when it is not one. */
export function pathOf(url: string | undefined): string | null {
  if (!url) return null;
  if (url.startsWith('/')) {
    const q = url.indexOf('?');
    return q < 0 ? url : url.slice(0, q);
  }
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

export function createRoutes(svc: Services, opts: RoutesOptions): Handler {
  const headers = Object.entries(securityHeaders({ livekitClientUrl: opts.livekitClientUrl }));
  const trpc = createHTTPHandler({
    router: opts.router,
    basePath: '/trpc/',
    maxBodySize: svc.cfg.HTTP_MAX_BODY_BYTES,
    maxBatchSize: svc.cfg.TRPC_MAX_BATCH,
    createContext: ({ req, res }) => httpContext(svc, req, res),
  });
  const serveClient = staticHandler(opts.clientDir);
  const metrics = metricsHandler(svc, opts.connections);

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [k, v] of headers) res.setHeader(k, v);
    if (!opts.rate.hit(clientAddress(req, svc.cfg.TRUST_PROXY))) {
      svc.refusals.count('rate_per_ip');
      return void res.writeHead(429, { 'retry-after': '1', connection: 'close', 'content-type': 'text/plain' }).end(USER_MESSAGES.RATE_LIMITED);
    }
    const path = pathOf(req.url);
    if (path === null) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request.');
    if (path.startsWith('/trpc/')) {
      // tRPC speaks GET and POST; a method fetch's Request refuses (TRACE) would otherwise be a 500.
      if (req.method !== 'GET' && req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST' }).end();
      if (declaredTooLarge(req, svc.cfg.HTTP_MAX_BODY_BYTES)) {
        svc.refusals.count('PAYLOAD_TOO_LARGE');
        return tooLarge(res);
      }
      return void trpc(req, res);
    }
    if (path === '/healthz') return json(res, 200, { ok: true });
    if (path === '/livekit/webhook') return svc.rooms.webhook(req, res);
    if (path === '/readyz') return void readiness(svc).then((r) => json(res, r.ready ? 200 : 503, r));
    if (path === '/metrics') return svc.cfg.METRICS_PORT === undefined ? metrics(req, res) : void res.writeHead(404).end();
    serveClient(req, res, path);
  };

  return (req, res) => {
    try {
      route(req, res);
    } catch (err) {
      svc.metrics.uncaughtErrors.inc({ kind: 'request' });
      svc.log.error({ err, method: req.method, url: req.url?.slice(0, 200) }, 'request handler failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal error.');
      else res.destroy();
    }
  };
}

/** The body announces more than `max` bytes (a chunked one is cut off by tRPC's own maxBodySize). */
function declaredTooLarge(req: IncomingMessage, max: number): boolean {
  const length = Number(req.headers['content-length']);
  return Number.isFinite(length) && length > max;
}

/**
 * 413 before reading a byte of the body, in tRPC's error shape, and the connection closed: Node
 * would otherwise read (and drop) the whole announced body to keep the connection alive, which
 * a 20 MB request makes cost far more than answering it.
 */
function tooLarge(res: ServerResponse): void {
  const error = { message: USER_MESSAGES.PAYLOAD_TOO_LARGE, code: -32013, data: { code: 'PAYLOAD_TOO_LARGE', httpStatus: 413, appCode: 'PAYLOAD_TOO_LARGE' } };
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error }));
}

/** /metrics, behind METRICS_TOKEN when set (on METRICS_PORT, the only path served). */
export function metricsHandler(svc: Services, connections: () => number): Handler {
  const want = svc.cfg.METRICS_TOKEN ? Buffer.from(`Bearer ${svc.cfg.METRICS_TOKEN}`) : null;
  return (req, res) => {
    if (pathOf(req.url) !== '/metrics') return void res.writeHead(404).end();
    if (want) {
      const given = Buffer.from(req.headers.authorization ?? '');
      if (given.length !== want.length || !timingSafeEqual(given, want)) {
        return void res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' }).end('Metrics need a token.');
      }
    }
    svc.metrics.wsConnections.set(connections());
    void svc.metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': svc.metrics.registry.contentType }).end(body),
      () => res.writeHead(500).end(),
    );
  };
}
