/**
 * HTTP for attackers: `httpRequest` through node:http (the status is counted as soon as the
 * response head arrives, even when the server then cuts an upload short), and `rawRequest`
 * straight onto a TCP socket for request lines no HTTP client would send (`GET /%`).
 * Both always settle, with an outcome word (see ./pace.ts), within their timeout.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { issueToken } from '../../server/session/token';
import { REQUEST_TIMEOUT_MS, statusOutcome } from './pace';
import { ADULT_CONSENT } from '../../server/safety/age';

// Keep-alive, so thousands of requests a second do not use up loopback ports; the cap matches
// the attackers' own in-flight cap.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Abort this long after sending (an SSE stream is dropped after a few ms): `aborted` unless the head came first. */
  abortAfterMs?: number;
  timeoutMs?: number;
  /** Connect from this (loopback) address. */
  localAddress?: string;
}

export function httpRequest(url: string, o: RequestOptions = {}): Promise<string> {
  return new Promise((resolve) => {
    let status = 0;
    let done = false;
    const finish = (outcome: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(abortTimer);
      resolve(outcome);
    };
    const req = http.request(
      url,
      { method: o.method ?? 'GET', headers: o.headers, localAddress: o.localAddress, agent: o.abortAfterMs === undefined ? agent : false },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
        res.on('end', () => finish(statusOutcome(status)));
        res.on('error', () => finish(statusOutcome(status)));
      },
    );
    req.on('error', () => finish(status ? statusOutcome(status) : 'connError'));
    const timer = setTimeout(() => {
      req.destroy();
      finish(status ? statusOutcome(status) : 'timeout');
    }, o.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const abortTimer =
      o.abortAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            req.destroy();
            finish(status ? statusOutcome(status) : 'aborted');
          }, o.abortAfterMs);
    req.end(o.body);
  });
}

/** Writes `payload` on a fresh connection and reads the status line of whatever comes back. */
export function rawRequest(port: number, payload: string | Buffer, localAddress?: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve) => {
    let head = '';
    let done = false;
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    const finish = (outcome: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (m) finish(statusOutcome(Number(m[1])));
      else if (head.length > 64) finish('connError'); // not HTTP
    });
    socket.on('error', () => finish('connError'));
    socket.on('close', () => finish('connError'));
  });
}

/** A fresh user's session token, as session.create would issue it (the attackers know the secret to save a call). */
export function mintToken(secret: string): { userId: string; token: string } {
  const userId = randomUUID();
  return { userId, token: issueToken({ sub: userId, name: `x${userId.slice(0, 6)}`, exp: Date.now() + 6 * 3600_000, ...ADULT_CONSENT }, secret) };
}
