/**
 * SocketGuard: what a WebSocket may hold on to, on this process.
 *
 * - At most `maxPerIp` open sockets per client address, opened no faster than the address's
 *   request rate (HTTP_RATE_PER_IP) allows (beyond either: the upgrade is answered 429).
 * - A socket must authenticate (its connection params made a context) within `authTimeoutMs`,
 *   or it is closed: an unauthenticated socket costs memory and a keep-alive slot for nothing.
 * - An authenticated socket is closed when its session expires (`onExpired`: the client is told
 *   to renew and reconnect); a revoked one is closed by presence (see app.ts).
 * Counts are per process: with N processes a client may hold N times as many, still bounded.
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Clock } from '../shared/clock';
import type { WindowCounter } from '../shared/window-counter';
import { clientAddress } from './security';

export interface SocketGuardOptions {
  maxPerIp: number;
  authTimeoutMs: number;
  trustProxy: boolean;
  clock: Clock;
  /** Called when a socket's session expired; it should tell the client and close the socket. */
  onExpired(ws: WebSocket): void;
  /** A socket refused or closed by a bound (for refused_requests_total). */
  onRefused(reason: 'too_many_sockets_per_ip' | 'auth_timeout' | 'rate_per_ip'): void;
  /** Requests per address and second, shared with plain HTTP requests (an upgrade is one). */
  rate: WindowCounter;
}

// Node's timers take at most 2^31-1 ms; a session longer than that is re-armed when it fires.
const MAX_TIMER_MS = 2 ** 31 - 1;
// Close codes in the private range (4000-4999), named after the HTTP status they resemble.
export const CLOSE_AUTH_TIMEOUT = 4408;
export const CLOSE_SESSION_EXPIRED = 4401;
export const CLOSE_SESSION_REVOKED = 4403;

interface Watched {
  timer: NodeJS.Timeout | null;
  /** The client address the socket was admitted from. */
  ip: string;
}

export class SocketGuard {
  private readonly perIp = new Map<string, number>();
  private readonly watched = new WeakMap<WebSocket, Watched>();

  constructor(private readonly opts: SocketGuardOptions) {}

  /** The client's address when it may open one more socket, else null (refused and counted). */
  admit(req: IncomingMessage): string | null {
    const ip = clientAddress(req, this.opts.trustProxy);
    if (!this.opts.rate.hit(ip)) {
      this.opts.onRefused('rate_per_ip');
      return null;
    }
    if ((this.perIp.get(ip) ?? 0) >= this.opts.maxPerIp) {
      this.opts.onRefused('too_many_sockets_per_ip');
      return null;
    }
    return ip;
  }

  /** An admitted socket opened: counted against its address until it closes, and given its time to authenticate. */
  watch(ws: WebSocket, ip: string): void {
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    const w: Watched = { timer: null, ip };
    w.timer = setTimeout(() => {
      this.opts.onRefused('auth_timeout');
      ws.close(CLOSE_AUTH_TIMEOUT, 'authentication timeout');
    }, this.opts.authTimeoutMs);
    w.timer.unref();
    this.watched.set(ws, w);
    ws.once('close', () => {
      if (w.timer) clearTimeout(w.timer);
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n > 0) this.perIp.set(ip, n);
      else this.perIp.delete(ip);
    });
  }

  /** The address `ws` was admitted from ('unknown' for a socket not watched). */
  addressOf(ws: WebSocket): string {
    return this.watched.get(ws)?.ip ?? 'unknown';
  }

  /** The socket authenticated; `expiresAt` (epoch ms) is when its session ends, null for none. */
  authenticated(ws: WebSocket, expiresAt: number | null): void {
    const w = this.watched.get(ws);
    if (!w) return;
    if (w.timer) clearTimeout(w.timer);
    w.timer = null;
    if (expiresAt !== null) this.expireAt(ws, w, expiresAt);
  }

  private expireAt(ws: WebSocket, w: Watched, expiresAt: number): void {
    const left = expiresAt - this.opts.clock.now();
    if (left <= 0) return this.opts.onExpired(ws);
    w.timer = setTimeout(() => this.expireAt(ws, w, expiresAt), Math.min(left, MAX_TIMER_MS));
    w.timer.unref();
  }
}
