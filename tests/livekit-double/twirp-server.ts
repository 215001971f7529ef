/**
 * HTTP transport of the double: Twirp over JSON, as livekit-server speaks it.
 *
 *   POST /twirp/livekit.RoomService/<Method>
 *   Content-Type: application/json[;charset=UTF-8]   (the SDK sends ";charset=UTF-8")
 *   Authorization: Bearer <JWT>
 *
 * Success: 200, `Content-Type: application/json`, protojson body.
 * Error:   twirp status, `Content-Type: application/json` exactly (the SDK only
 *          parses `{code,msg,meta}` when the header equals that string).
 * Routing errors follow twirp: bad_route 404, malformed 400.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { TwirpError, authenticate, type AuthKeys } from './auth';
import { ROOM_SERVICE_METHODS, type FaultInjector, type RoomServiceMethod } from './faults';
import { invokeRoomService } from './room-service';
import type { RoomStore } from './room-store';

const PREFIX = '/twirp/livekit.RoomService/';

function writeJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.headersSent) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
  });
  res.end(payload);
}

function writeTwirpError(res: ServerResponse, err: TwirpError): void {
  writeJson(res, err.status, { code: err.code, msg: err.message });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const isMethod = (name: string): name is RoomServiceMethod => (ROOM_SERVICE_METHODS as readonly string[]).includes(name);

export class TwirpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: RoomStore,
    private readonly faults: FaultInjector,
    private readonly keys: AuthKeys,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        writeJson(res, 500, { code: 'internal', msg: err instanceof Error ? err.message : String(err) });
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    return `http://${host}:${port}`;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const method = path.startsWith(PREFIX) ? path.slice(PREFIX.length) : '';
    if (req.method !== 'POST') {
      badRoute(res, `unsupported method "${req.method ?? ''}" (only POST is allowed)`);
      return;
    }
    if (!isMethod(method)) {
      badRoute(res, `no handler for path "${path}"`);
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const raw = await readBody(req);

    const decision = this.faults.decide(method);
    if (decision.delayMs > 0) await this.wait(decision.delayMs);
    if (decision.drop) {
      req.socket.destroy();
      return;
    }
    if (decision.fail) {
      writeTwirpError(res, new TwirpError(decision.fail.status, decision.fail.code, decision.fail.msg));
      return;
    }
    if (contentType !== 'application/json') {
      badRoute(res, `unexpected Content-Type: "${req.headers['content-type'] ?? ''}"`);
      return;
    }

    try {
      let body: Record<string, unknown>;
      try {
        const parsed: unknown = raw.length === 0 ? {} : JSON.parse(raw);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Record<string, unknown>;
      } catch {
        throw new TwirpError(400, 'malformed', 'the json request could not be decoded');
      }
      const claims = authenticate(req.headers.authorization, this.keys);
      writeJson(res, 200, invokeRoomService(method, body, claims, this.store));
    } catch (err) {
      if (err instanceof TwirpError) writeTwirpError(res, err);
      else throw err;
    }
  }
}

function badRoute(res: ServerResponse, msg: string): void {
  writeTwirpError(res, new TwirpError(404, 'bad_route', msg));
}
