/**
 * HTTP/1.1 over a bare TCP socket, for requests no HTTP client would send: whatever bytes are
 * given go out as they are (no URL parsing, no header validation, no normalised paths), and the
 * answer is parsed just enough to read its status, headers and body.
 *
 * A request body can be an iterable of chunks, written with backpressure; writing stops as soon
 * as the server has answered (a 413 arrives long before 20 MB are sent).
 */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

export interface RawResult {
  /** Complete answers, in order. */
  responses: RawResponse[];
  /** The server closed (or reset) the connection before the answers asked for were complete. */
  closedEarly: boolean;
}

export interface RawOptions {
  /** Answers to wait for (pipelined requests); default 1. */
  responses?: number;
  /** The request was HEAD: its answer has no body whatever Content-Length says. */
  head?: boolean;
  timeoutMs?: number;
  /** Half-close our side once everything is written (a client that stops mid-request). */
  end?: boolean;
}

export type RawRequest = string | Buffer | Iterable<string | Buffer>;

export function rawHttp(port: number, request: RawRequest, opts: RawOptions = {}): Promise<RawResult> {
  const parts: Iterable<string | Buffer> = typeof request === 'string' || Buffer.isBuffer(request) ? [request] : request;
  const want = opts.responses ?? 1;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const responses: RawResponse[] = [];
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (closedEarly: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ responses, closedEarly });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      socket.destroy();
      const got = buf.subarray(0, 200).toString('latin1');
      reject(new Error(`no complete answer within ${timeoutMs} ms (${responses.length} of ${want}; pending bytes: ${JSON.stringify(got)})`));
    }, timeoutMs);
    const drain = (atClose: boolean) => {
      for (;;) {
        let r: ReturnType<typeof parseResponse>;
        try {
          r = parseResponse(buf, opts.head === true, atClose);
        } catch (e) {
          done = true;
          clearTimeout(timer);
          socket.destroy();
          return reject(e instanceof Error ? e : new Error(String(e)));
        }
        if (!r) return;
        buf = buf.subarray(r.used);
        if (r.response) responses.push(r.response);
        if (responses.length >= want) return finish(false);
      }
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      drain(false);
    });
    socket.on('end', () => drain(true));
    socket.on('close', () => {
      drain(true);
      finish(true);
    });
    // A reset after (or instead of) the answer: what arrived is what we have.
    socket.on('error', () => {});
    socket.on('connect', () => {
      void (async () => {
        for (const part of parts) {
          if (done || responses.length > 0 || socket.destroyed) return;
          if (!socket.write(part)) await new Promise<void>((ok) => (socket.once('drain', ok), socket.once('close', ok)));
        }
        if (opts.end && !socket.destroyed) socket.end();
      })().catch(() => {});
    });
  });
}

/** One answer at the start of `buf`: null until it is complete. Interim (1xx) answers are skipped. */
function parseResponse(buf: Buffer, head: boolean, atClose: boolean): { response: RawResponse | null; used: number } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine = '', ...lines] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!m) throw new Error(`not an HTTP answer: ${JSON.stringify(statusLine.slice(0, 100))}`);
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const start = end + 4;
  if (status >= 100 && status < 200 && status !== 101) return { response: null, used: start };
  const done = (body: Buffer, used: number) => ({ response: { status, headers, body: body.toString('utf8') }, used });
  if (head || status === 101 || status === 204 || status === 304) return done(Buffer.alloc(0), start);
  if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
    const chunks: Buffer[] = [];
    let pos = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return null;
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
      pos = lineEnd + 2;
      if (size === 0) {
        // No trailers are sent by the server: the last chunk is followed by one empty line.
        return buf.length < pos + 2 ? null : done(Buffer.concat(chunks), pos + 2);
      }
      if (buf.length < pos + size + 2) return null;
      chunks.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    return buf.length < start + length ? null : done(buf.subarray(start, start + length), start + length);
  }
  return atClose ? done(buf.subarray(start), buf.length) : null;
}
