/**
 * The attacks over plain HTTP: malformed requests (a), SSE subscriptions opened and dropped (c),
 * unauthenticated and invalid calls (g) and unsigned LiveKit webhooks (h). Each cycles through
 * its request kinds, one per paced operation, and counts outcomes per kind as well.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpRequest, mintToken, rawRequest } from './http';
import { pace } from './pace';
import type { Attack, AttackContext, AttackRun } from './context';

type Kind = [name: string, send: () => Promise<string>];

function cycle(ctx: AttackContext, kinds: Kind[]): AttackRun {
  return () =>
    pace({
      ...ctx,
      op: async (i) => {
        const [name, send] = kinds[i % kinds.length]!;
        ctx.tally.add(await send(), name);
      },
    });
}

function raw(ctx: AttackContext, requestLine: string, headers = ''): () => Promise<string> {
  const port = Number(new URL(ctx.url).port);
  return () => rawRequest(port, `${requestLine}\r\nHost: 127.0.0.1\r\n${headers}\r\n`, ctx.sourceAddress);
}

// 20 MB: far beyond any request this API takes (the largest, an SDP, is 20 KB).
const HUGE_BODY_BYTES = 20 * 1024 ** 2;
// Request headers past Node's default limit (16 KB) are answered 431 by the HTTP parser.
const HUGE_HEADER = `X-Pad: ${'a'.repeat(64 * 1024)}\r\n`;
const BATCH_1000 = `/trpc/${Array.from({ length: 1000 }, () => 'session.me').join(',')}?batch=1`;

/** a) requests no browser sends: bad paths and escapes, oversized headers and bodies, a 1,000-call batch. */
export const malformedHttp: Attack = (ctx) => {
  const { token } = mintToken(ctx.secret);
  const from = ctx.sourceAddress;
  const huge = Buffer.concat([Buffer.from('{"displayName":"'), Buffer.alloc(HUGE_BODY_BYTES, 'a'), Buffer.from('"}')]); // built once, sent many times
  return cycle(ctx, [
    ['GET /%', raw(ctx, 'GET /% HTTP/1.1')],
    ['GET //', raw(ctx, 'GET // HTTP/1.1')],
    ['GET /%zz%ff', raw(ctx, 'GET /%zz%ff/..%2f..%2fetc%2fpasswd HTTP/1.1')],
    ['GET /trpc/%E0%A4%A', raw(ctx, 'GET /trpc/%E0%A4%A HTTP/1.1')],
    ['GET session.me?input=%E0%A4%A', raw(ctx, 'GET /trpc/session.me?input=%E0%A4%A HTTP/1.1')],
    ['64 KB header', raw(ctx, 'GET /healthz HTTP/1.1', HUGE_HEADER)],
    [
      '20 MB POST session.create',
      () => httpRequest(`${ctx.url}/trpc/session.create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge, localAddress: from }),
    ],
    ['batch of 1000 session.me', () => httpRequest(`${ctx.url}${BATCH_1000}`, { headers: { authorization: `Bearer ${token}` }, localAddress: from })],
  ]);
};

/** c) tRPC's httpSubscriptionLink (SSE), a fresh user each time, dropped a few ms after the request. */
export const sseAbort: Attack = (ctx) => {
  const input = encodeURIComponent(JSON.stringify({}));
  return cycle(ctx, [
    [
      'GET match.events (SSE)',
      () =>
        httpRequest(`${ctx.url}/trpc/match.events?input=${input}`, {
          headers: { accept: 'text/event-stream', authorization: `Bearer ${mintToken(ctx.secret).token}` },
          abortAfterMs: ctx.sseAbortMs,
          localAddress: ctx.sourceAddress,
        }),
    ],
  ]);
};

/** g) calls that must be refused: no token, a garbage or forged token, input that fails validation. */
export const invalidCalls: Attack = (ctx) => {
  const { token } = mintToken(ctx.secret);
  const forged = `${token.slice(0, token.indexOf('.'))}.${'A'.repeat(43)}`;
  const post = (path: string, body: string, auth?: string) => () =>
    httpRequest(`${ctx.url}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body,
      localAddress: ctx.sourceAddress,
    });
  return cycle(ctx, [
    ['enqueue, no token', post('match.enqueue', '{}')],
    ['enqueue, garbage token', post('match.enqueue', '{}', 'garbage')],
    ['enqueue, forged token', post('match.enqueue', '{}', forged)],
    ['enqueue, invalid language', post('match.enqueue', '{"language":"!!"}', token)],
    ['enqueue, body not JSON', post('match.enqueue', '{"language":', token)],
    ['signal.send, bad matchId', post('signal.send', '{"matchId":"x","data":{"kind":"connected"}}', token)],
    [
      'session.me, input not JSON',
      () => httpRequest(`${ctx.url}/trpc/session.me?input=%7Bnope`, { headers: { authorization: `Bearer ${token}` }, localAddress: ctx.sourceAddress }),
    ],
    ['unknown procedure', post('no.such.procedure', '{}', token)],
  ]);
};

/** h) webhooks without a valid signature whose bodies hold NULs (Postgres text cannot store one). */
export const unsignedWebhooks: Attack = (ctx) => {
  const escaped = JSON.stringify({ event: 'room_finished', id: 'EV_\u0000', room: { name: 'rv-\u0000-room' } });
  const rawNul = `{"event":"participant_left","id":"EV_${'\0'}","participant":{"identity":"\0"}}`;
  const send = (body: string, auth?: string) => () =>
    httpRequest(`${ctx.url}/livekit/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/webhook+json', ...(auth ? { authorization: auth } : {}) },
      body,
      localAddress: ctx.sourceAddress,
    });
  return cycle(ctx, [
    ['escaped \\u0000, unsigned', send(escaped)],
    ['raw NUL, garbage signature', send(rawNul, 'garbage')],
    ['escaped \\u0000, JWT-shaped garbage', send(escaped, 'eyJhbGciOiJIUzI1NiJ9.eyJzaGEyNTYiOiJ4In0.AAAA')],
  ]);
};

/**
 * x) the control: the same paced requests, to a bare HTTP server in this process instead of
 * Rendezvous. What it does to honest users' latency is this machine's share (attackers and
 * honest users on the same two cores), not the server's; run it alone with `--attacks x`.
 */
export const control: Attack = async (ctx) => {
  const bare = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((ok) => bare.listen(0, '127.0.0.1', ok));
  ctx.signal.addEventListener('abort', () => bare.close(), { once: true });
  const url = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`;
  return cycle(ctx, [['GET a bare server', () => httpRequest(url, { localAddress: ctx.sourceAddress })]]);
};
