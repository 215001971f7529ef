/**
 * Response headers every HTTP answer carries, and the checks on where a request comes from.
 *
 * The Content-Security-Policy allows exactly what the client needs: its own scripts, styles and
 * images, WebSocket and fetch to this origin, and the LiveKit URL when one is configured (the
 * browser connects to it for LiveKit calls). Direct WebRTC needs no CSP entry (peer connections
 * are not fetches). 'wasm-unsafe-eval' lets the nudity shield's worker compile TensorFlow.js'
 * WebAssembly (this origin's own .wasm files; it allows no eval of JavaScript). Nobody may frame the
 * page (clickjacking a camera permission).
 */
import type { IncomingMessage } from 'node:http';

export interface SecurityOptions {
  /** The LiveKit URL browsers connect to (ws(s)://), when LiveKit is configured. */
  livekitClientUrl?: string;
}

export function securityHeaders(opts: SecurityOptions): Record<string, string> {
  const connect = ["'self'"];
  if (opts.livekitClientUrl) {
    const u = new URL(opts.livekitClientUrl);
    // LiveKit's client speaks WebSocket to the URL and HTTPS to the same host (region pinning, validation).
    connect.push(u.origin.replace(/^http/, 'ws'), `${u.protocol === 'wss:' || u.protocol === 'https:' ? 'https' : 'http'}://${u.host}`);
  }
  const csp = [
    "default-src 'none'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    `connect-src ${connect.join(' ')}`,
    "worker-src 'self' blob:",
    "manifest-src 'self'",
    "font-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'permissions-policy': 'camera=(self), microphone=(self), display-capture=(), geolocation=(), payment=(), usb=()',
    'cross-origin-opener-policy': 'same-origin',
  };
}

/**
 * The client's address: the socket's, or with `trustProxy` the last address X-Forwarded-For names:
 * the one our own proxy saw and appended. Entries before it are whatever the client sent, so
 * taking one of those would let a client pick a new address per request.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = req.headers['x-forwarded-for'];
    const last = (Array.isArray(xff) ? xff.join(',') : xff)?.split(',').pop()?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * Same-origin by default (scheme, host and port must all match the page's own origin);
 * otherwise the Origin must be listed. Non-browser clients send no Origin.
 */
export function originAllowed(req: IncomingMessage, allowed: string[], trustProxy: boolean): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  if (allowed.includes(origin)) return true;
  const host = req.headers.host;
  if (!host) return false;
  const forwarded = trustProxy ? (req.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0]?.trim() : undefined;
  const scheme = forwarded ?? ((req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
  try {
    return new URL(origin).origin === new URL(`${scheme}://${host}`).origin;
  } catch {
    return false;
  }
}
