/**
 * Nothing a request does can exit the process. Malformed HTTP goes out over bare TCP sockets
 * (node:net, so no client normalises it) and malformed WebSocket frames over a bare `ws` socket;
 * after each, the process still answers /healthz, still starts sessions, and no answer was a 5xx
 * (no dependency is down here). An error that reached the process's last-resort handlers fails
 * the case that caused it: in production it would have ended the process.
 *
 * The WebSocket payload limit is raised to 1 MiB here (from 64 KiB) so that a 10,000-call frame
 * and a 100,000-level nesting reach the server's parser instead of being cut off by the limit;
 * the limit itself is checked with a frame just over it.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { operatorSession } from '../support/operators';
import { connectUser, httpClient, ADULT } from '../support/client';
import { rawHttp, type RawRequest, type RawResponse } from './raw-http';
import { TestSocket, errorOf, expectServing, watchUncaught, type UncaughtWatch } from './support';

const WS_MAX_PAYLOAD = 1024 ** 2;
const MB = 1024 ** 2;

let app: TestApp;
let watch: UncaughtWatch;
/** A session for the requests that need one (the 1,000-call batch must not fail on auth alone). */
let token: string;
/** An operator's cookie, for the requests to operator procedures (refused for their input, not for the caller). */
let operatorCookie: string;

beforeAll(async () => {
  watch = watchUncaught();
  app = await startTestApp({ WS_MAX_PAYLOAD: String(WS_MAX_PAYLOAD) });
  token = (await httpClient(app.url).session.create.mutate({ consent: ADULT })).token;
  operatorCookie = (await operatorSession(app, 'viewer')).cookie;
});

afterAll(async () => {
  await app?.[Symbol.asyncDispose]();
  watch?.[Symbol.dispose]();
});

beforeEach(() => {
  watch.seen.length = 0;
});

afterEach(() => {
  expect(watch.seen, 'errors nothing caught (in production each ends the process)').toEqual([]);
});

/** A request with a Host header and the given head lines; `body` gets its Content-Length. */
function request(method: string, target: string, headers: string[] = [], body?: string | Buffer): RawRequest {
  const length = body === undefined ? [] : [`Content-Length: ${Buffer.byteLength(body)}`];
  const head = [`${method} ${target} HTTP/1.1`, 'Host: localhost', ...headers, ...length, '', ''].join('\r\n');
  return body === undefined ? head : [head, body];
}

const JSON_TYPE = 'Content-Type: application/json';

function* repeated(chunk: Buffer, total: number): Generator<Buffer> {
  for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
}

/** The answer is a tRPC error: JSON with `error.data.appCode`, and `httpStatus` as the status line. */
function expectTypedError(r: RawResponse): void {
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    expect.fail(`a ${r.status} that is not JSON: ${JSON.stringify(r.body.slice(0, 200))}`);
  }
  const e = errorOf(body);
  expect(e, `not a tRPC error: ${r.body.slice(0, 200)}`).not.toBeNull();
  expect(e!.appCode).toEqual(expect.any(String));
  expect(e!.httpStatus).toBe(r.status);
}

function expectNoLeak(r: RawResponse): void {
  expect(r.body).not.toMatch(/root:x?:0:0|"devDependencies"|"dependencies"/);
}

interface HttpCase {
  name: string;
  request: () => RawRequest;
  /** The statuses it may be answered with; without: anything below 500. */
  status?: number[];
  /** The answer is a typed tRPC error. */
  typed?: boolean;
  /** Nothing to answer to: the server may close the connection without a word. */
  mayDrop?: boolean;
  /** Half-close our side after writing (a client that gives up mid-request). */
  end?: boolean;
  responses?: number;
  check?: (answers: RawResponse[]) => void;
}

const HTTP_CASES: HttpCase[] = [
  { name: 'GET /% (an escape with no digits) is a 400', request: () => request('GET', '/%'), status: [400] },
  { name: 'GET // (an empty first segment)', request: () => request('GET', '//') },
  { name: 'GET /%E0%A4%A (a truncated UTF-8 escape) is a 400', request: () => request('GET', '/%E0%A4%A'), status: [400] },
  { name: 'GET /%C0%AF (an overlong UTF-8 escape) is a 400', request: () => request('GET', '/%C0%AF'), status: [400] },
  {
    name: 'GET /..%2f..%2fetc/passwd (an escaped traversal) leaks nothing',
    request: () => request('GET', '/..%2f..%2fetc/passwd'),
    status: [400, 404],
    check: ([r]) => expectNoLeak(r!),
  },
  {
    name: 'GET /assets/../../package.json (a raw traversal) leaks nothing',
    request: () => request('GET', '/assets/../../package.json'),
    status: [400, 404],
    check: ([r]) => expectNoLeak(r!),
  },
  {
    name: 'GET /assets/%2e%2e/%2e%2e/%2e%2e/package.json (an escaped-dot traversal) leaks nothing',
    request: () => request('GET', '/assets/%2e%2e/%2e%2e/%2e%2e/package.json'),
    status: [400, 404],
    check: ([r]) => expectNoLeak(r!),
  },
  { name: 'GET /index.html%00.js (a NUL in the path) leaks nothing', request: () => request('GET', '/index.html%00.js'), check: ([r]) => expectNoLeak(r!) },
  { name: 'GET http://x/ (absolute-form)', request: () => request('GET', 'http://x/') },
  { name: 'GET http://x/healthz (absolute-form to a route)', request: () => request('GET', 'http://x/healthz') },
  { name: 'GET http://[ (an absolute-form target that is no URL) is a 400', request: () => request('GET', 'http://['), status: [400] },
  { name: 'OPTIONS * (asterisk-form)', request: () => request('OPTIONS', '*') },
  { name: 'a request line of 100 KB is refused', request: () => request('GET', `/${'a'.repeat(100_000)}`), status: [400, 414, 431] },
  { name: 'a header of 100 KB is refused', request: () => request('GET', '/healthz', [`X-Big: ${'a'.repeat(100_000)}`]), status: [400, 431] },
  { name: 'a header value with a NUL is refused', request: () => request('GET', '/healthz', ['X-Bad: a\u0000b']), status: [400] },
  { name: 'a header name with a space is refused', request: () => request('GET', '/healthz', ['Bad Name: x']), status: [400] },
  { name: 'a header value with a bare CR is refused', request: () => request('GET', '/healthz', ['X-Bad: a\rb']), status: [400] },
  { name: 'a request that is not HTTP at all is refused', request: () => 'HELLO THERE\r\n\r\n', status: [400] },
  {
    name: 'Content-Length with Transfer-Encoding (a smuggling attempt) is refused',
    request: () => request('POST', '/trpc/session.create', [JSON_TYPE, 'Content-Length: 4', 'Transfer-Encoding: chunked'], '0\r\n\r\n'),
    status: [400],
  },
  {
    name: 'chunked encoding garbage is refused',
    request: () => request('POST', '/trpc/session.create', [JSON_TYPE, 'Transfer-Encoding: chunked'], 'ZZ\r\nhello\r\n0\r\n\r\n'),
    status: [400],
  },
  {
    name: 'a chunk larger than the body limit is refused',
    request: () => [
      request('POST', '/trpc/session.create', [JSON_TYPE, 'Transfer-Encoding: chunked']) as string,
      'FFFFFFFF\r\n',
      Buffer.alloc(256 * 1024, 'a'),
    ],
    status: [400, 413],
  },
  {
    name: 'a negative Content-Length is refused',
    request: () => request('POST', '/trpc/session.create', [JSON_TYPE, 'Content-Length: -1']),
    status: [400],
  },
  {
    name: 'a Content-Length that is no number is refused',
    request: () => request('POST', '/trpc/session.create', [JSON_TYPE, 'Content-Length: abc']),
    status: [400],
  },
  {
    name: 'POST /trpc/session.create with a 20 MB body is a 413',
    request: () => [
      request('POST', '/trpc/session.create', [JSON_TYPE, `Content-Length: ${20 * MB}`]) as string,
      ...repeated(Buffer.alloc(64 * 1024, 'a'), 20 * MB),
    ],
    status: [413],
    typed: true,
  },
  {
    name: 'a body that is not JSON is a typed 400',
    request: () => request('POST', '/trpc/session.create', [JSON_TYPE], '{"displayName": "Ann"'),
    status: [400],
    typed: true,
  },
  {
    name: 'a body that is not UTF-8 is a typed 400',
    request: () =>
      request('POST', '/trpc/session.create', [JSON_TYPE], Buffer.from([...Buffer.from('{"displayName":"'), 0xff, 0xfe, 0xc0, ...Buffer.from('"}')])),
    status: [400],
    typed: true,
  },
  {
    name: 'a JSON body nested 30,000 levels deep is a typed 400',
    request: () => request('POST', '/trpc/session.create', [JSON_TYPE], `{"displayName":${'['.repeat(30_000)}${']'.repeat(30_000)}}`),
    status: [400],
    typed: true,
  },
  {
    name: 'a JSON body with "__proto__" keys pollutes no prototype',
    request: () => request('POST', '/trpc/session.create', [JSON_TYPE], '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
    check: () => expect(({} as Record<string, unknown>).polluted).toBeUndefined(),
  },
  {
    name: 'a tRPC batch of 1,000 calls is a typed 400',
    request: () => request('GET', `/trpc/${Array.from({ length: 1000 }, () => 'session.me').join(',')}?batch=1`, [`Authorization: Bearer ${token}`]),
    status: [400],
    typed: true,
  },
  { name: 'GET /trpc/% is a 4xx', request: () => request('GET', '/trpc/%'), status: [400, 404] },
  {
    name: 'an input that cannot be decoded is a typed 400',
    request: () => request('GET', '/trpc/admin.counts?input=%', [`Cookie: ${operatorCookie}`]),
    status: [400],
    typed: true,
  },
  {
    name: 'an input that is not JSON is a typed 400',
    request: () => request('GET', '/trpc/admin.counts?input={', [`Cookie: ${operatorCookie}`]),
    status: [400],
    typed: true,
  },
  { name: 'GET to a mutation is a typed 405', request: () => request('GET', '/trpc/session.create'), status: [405], typed: true },
  {
    name: 'a multipart body that is not multipart is a typed 4xx',
    request: () => request('POST', '/trpc/session.create', ['Content-Type: multipart/form-data; boundary=x'], 'garbage'),
    typed: true,
    check: ([r]) => expect(r!.status).toBeGreaterThanOrEqual(400),
  },
  {
    name: 'an unknown content type is a typed 415',
    request: () => request('POST', '/trpc/session.create', ['Content-Type: application/xml'], '<a/>'),
    status: [415],
    typed: true,
  },
  {
    name: 'POST /livekit/webhook with garbage is a 4xx',
    request: () => request('POST', '/livekit/webhook', ['Content-Type: application/webhook+json', 'Authorization: garbage'], 'not json at all'),
    check: ([r]) => expect(r!.status).toBeGreaterThanOrEqual(400),
  },
  {
    name: 'POST /livekit/webhook with a 20 MB body is a 4xx',
    request: () => [
      request('POST', '/livekit/webhook', ['Content-Type: application/webhook+json', `Content-Length: ${20 * MB}`]) as string,
      ...repeated(Buffer.alloc(64 * 1024, 'a'), 20 * MB),
    ],
    check: ([r]) => expect(r!.status).toBeGreaterThanOrEqual(400),
  },
  { name: 'an unknown Expect is a 417', request: () => request('GET', '/healthz', ['Expect: the-unexpected']), status: [417] },
  {
    name: 'a WebSocket upgrade to another path is dropped',
    request: () =>
      request('GET', '/elsewhere', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']),
    mayDrop: true,
  },
  {
    name: 'a WebSocket upgrade with a bad key is a 400',
    request: () => request('GET', '/trpc', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: short']),
    status: [400],
  },
  {
    name: 'a WebSocket upgrade from a foreign Origin is a 403',
    request: () =>
      request('GET', '/trpc', [
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Origin: https://evil.example',
      ]),
    status: [403],
  },
  {
    name: 'a tRPC call from a foreign Origin is granted no CORS',
    request: () => request('POST', '/trpc/session.create', [JSON_TYPE, 'Origin: https://evil.example'], '{}'),
    check: ([r]) => expect(r!.headers['access-control-allow-origin'] ?? '').not.toMatch(/\*|evil/),
  },
  { name: 'an Origin of "null"', request: () => request('POST', '/trpc/session.create', [JSON_TYPE, 'Origin: null'], '{}') },
  { name: 'an Origin that is no URL', request: () => request('GET', '/healthz', ['Origin: ::::']) },
  {
    name: 'two requests pipelined in one write are both answered',
    request: () => (request('GET', '/%') as string) + (request('GET', '/healthz') as string),
    responses: 2,
    check: (rs) => expect(rs.map((r) => r.status)).toEqual([400, 200]),
  },
  {
    name: 'a client that gives up halfway through a body',
    request: () => [request('POST', '/trpc/session.create', [JSON_TYPE, 'Content-Length: 100']) as string, '{"displayName":"An'],
    end: true,
    mayDrop: true,
  },
];

describe('malformed HTTP requests', () => {
  it.for(HTTP_CASES)('$name', async (c) => {
    const result = await rawHttp(app.server.port, c.request(), { responses: c.responses, end: c.end, timeoutMs: 5000 }).catch((e: Error) => e);
    expect(watch.seen, 'errors nothing caught (in production each ends the process)').toEqual([]);
    if (result instanceof Error) throw result;
    const { responses } = result;
    const answer = responses[0];
    if (!answer) expect(c.mayDrop, 'the server closed the connection without answering').toBe(true);
    for (const r of responses) expect(r.status, `answered ${r.status}: ${r.body.slice(0, 200)}`).toBeLessThan(500);
    if (answer && c.status) expect(c.status, `answered ${answer.status}: ${answer.body.slice(0, 200)}`).toContain(answer.status);
    if (answer && c.typed) expectTypedError(answer);
    if (answer) c.check?.(responses);
    await expectServing(app);
  });

  it('HEAD, OPTIONS, PUT, DELETE, PATCH, TRACE and CONNECT to each route are never a 5xx', async () => {
    const routes = [
      '/',
      '/healthz',
      '/readyz',
      '/metrics',
      '/livekit/webhook',
      '/trpc/session.me',
      '/trpc/session.create',
      '/trpc/match.events',
      '/assets/x.js',
      '/no/such/page',
    ];
    const methods = ['HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'TRACE'];
    const offenders: string[] = [];
    for (const route of routes) {
      for (const method of methods) {
        const result = await rawHttp(app.server.port, request(method, route, ['Content-Length: 0']), { head: method === 'HEAD', timeoutMs: 5000 }).catch(
          () => ({ responses: [] }),
        );
        const responses = result.responses;
        const status = responses[0]?.status;
        if (status === undefined || status >= 500) offenders.push(`${method} ${route}: ${status ?? 'no answer'} ${responses[0]?.body.slice(0, 120) ?? ''}`);
      }
    }
    // CONNECT names a host, not a route: a proxy request this server does not serve.
    const connectReply = await rawHttp(app.server.port, 'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n', { timeoutMs: 5000 });
    if ((connectReply.responses[0]?.status ?? 0) >= 500) offenders.push(`CONNECT: ${connectReply.responses[0]?.status}`);
    expect(watch.seen, 'errors nothing caught (in production each ends the process)').toEqual([]);
    expect(offenders).toEqual([]);
    await expectServing(app);
  });
});

describe('what every answer carries', () => {
  it('the security headers are on the page, /healthz and tRPC answers (errors included)', async () => {
    const answers: Array<[string, Headers | Record<string, string>]> = [
      ['GET /', (await fetch(`${app.url}/`)).headers],
      ['GET /healthz', (await fetch(`${app.url}/healthz`)).headers],
      ['GET /trpc/session.me without a token', (await fetch(`${app.url}/trpc/session.me`)).headers],
      [
        'POST /trpc/session.create',
        (await fetch(`${app.url}/trpc/session.create`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).headers,
      ],
      ['GET /% (a 400)', (await rawHttp(app.server.port, request('GET', '/%'))).responses[0]!.headers],
    ];
    for (const [what, h] of answers) {
      const get = (name: string) => (h instanceof Headers ? h.get(name) : h[name]) ?? '';
      expect(get('content-security-policy'), what).toContain("frame-ancestors 'none'");
      expect(get('x-content-type-options'), what).toBe('nosniff');
      expect(get('referrer-policy'), what).not.toBe('');
      expect(get('permissions-policy'), what).toMatch(/camera/);
      expect(get('permissions-policy'), what).toMatch(/microphone/);
    }
  });

  it('/readyz says which checks passed, in its fixed shape', async () => {
    const res = await fetch(`${app.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { ready: unknown; checks: Record<string, { ok: unknown; reason?: unknown }> };
    expect(body).toMatchObject({ ready: true, checks: { redis: { ok: true }, postgres: { ok: true }, migrations: { ok: true } } });
    for (const check of Object.values(body.checks)) {
      expect(Object.keys(check).sort()).toEqual(check.reason === undefined ? ['ok'] : ['ok', 'reason']);
    }
  });
});

/** A socket that has sent connection params for a fresh session (sockets per user are bounded). */
async function authedSocket(): Promise<TestSocket> {
  const { token: fresh } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
  const s = await TestSocket.open(`${app.wsUrl}?connectionParams=1`);
  s.sendJson({ method: 'connectionParams', data: { token: fresh } });
  return s;
}

let probes = 0;
/** The socket still serves calls: a session.me sent now is answered with data. */
async function expectSocketServes(s: TestSocket): Promise<void> {
  const id = `probe-${++probes}`;
  s.sendJson({ id, method: 'query', params: { path: 'session.me' } });
  const reply = await s.waitForReply(id);
  expect(errorOf(reply), JSON.stringify(reply).slice(0, 300)).toBeNull();
}

/** No reply on the socket is a 5xx or lacks an appCode. */
function expectNo5xx(s: TestSocket): void {
  const offenders = s
    .replies()
    .map(errorOf)
    .filter((e): e is NonNullable<typeof e> => e !== null)
    .filter((e) => typeof e.httpStatus !== 'number' || e.httpStatus >= 500 || typeof e.appCode !== 'string');
  expect(offenders).toEqual([]);
}

/** Errors on the socket that are typed 4xx answers. */
function typed4xx(s: TestSocket): unknown[] {
  return s
    .replies()
    .map(errorOf)
    .filter((e) => e !== null && typeof e.httpStatus === 'number' && e.httpStatus >= 400 && e.httpStatus < 500 && typeof e.appCode === 'string');
}

/** After a case: nothing escaped, the process serves, and a new user can still join the queue. */
async function expectStillMatching(): Promise<void> {
  expect(watch.seen).toEqual([]);
  await expectServing(app);
  await using user = await connectUser(app.url);
  const { state } = await user.api.match.enqueue.mutate({});
  // CONNECTING: paired at once with a user an earlier case left waiting, which is matching too.
  expect(['WAITING', 'CONNECTING']).toContain(state);
  if (state === 'WAITING') await user.api.match.cancel.mutate({});
}

describe('malformed WebSocket frames', () => {
  it('a binary frame is refused with a typed error and the socket keeps serving', async () => {
    await using s = await authedSocket();
    s.send(Buffer.from([0, 1, 2, 3]), true);
    await expectSocketServes(s);
    expect(typed4xx(s)).toHaveLength(1);
    expectNo5xx(s);
    await expectStillMatching();
  });

  it.for([
    { name: 'a frame that is not JSON', frame: '{"id":1,' },
    { name: 'null', frame: 'null' },
    { name: 'a number', frame: '42' },
    { name: 'a call with an unknown method', frame: '{"id":1,"method":"nope"}' },
    { name: 'a call with no params', frame: '{"id":1,"method":"query"}' },
    { name: 'a call whose params are null', frame: '{"id":1,"method":"query","params":null}' },
    { name: 'a call whose path is a number', frame: '{"id":1,"method":"query","params":{"path":5}}' },
    { name: 'a call whose id is an object', frame: '{"id":{},"method":"query","params":{"path":"session.me"}}' },
    { name: '100,000 unclosed [', frame: '['.repeat(100_000) },
    { name: 'an array nested 100,000 levels deep', frame: `${'['.repeat(100_000)}${']'.repeat(100_000)}` },
  ])('$name is refused with a typed 4xx and the socket keeps serving', async ({ frame }) => {
    await using s = await authedSocket();
    s.send(frame);
    await expectSocketServes(s);
    expect(typed4xx(s).length).toBeGreaterThanOrEqual(1);
    expectNo5xx(s);
    await expectStillMatching();
  });

  it('an empty array of calls is answered with nothing and the socket keeps serving', async () => {
    await using s = await authedSocket();
    s.send('[]');
    await expectSocketServes(s);
    expectNo5xx(s);
    await expectStillMatching();
  });

  it('10,000 calls in one frame are refused as a whole with a 400: none of them runs', async () => {
    await using s = await authedSocket();
    s.sendJson(Array.from({ length: 10_000 }, (_, i) => ({ id: i + 1, method: 'query', params: { path: 'session.me' } })));
    await expectSocketServes(s);
    const ran = s.replies().filter((r) => errorOf(r) === null && (r as { id?: unknown }).id !== `probe-${probes}`);
    expect(ran.length, 'calls of the batch that ran').toBe(0);
    expect(typed4xx(s).map((e) => (e as { httpStatus: number }).httpStatus)).toContain(400);
    expectNo5xx(s);
    await expectStillMatching();
  });

  it('a call whose input is nested 100,000 levels deep is a typed 4xx', async () => {
    await using s = await authedSocket();
    const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    s.send(`{"id":1,"method":"mutation","params":{"path":"match.enqueue","input":{"interests":${nested}}}}`);
    s.send(`{"id":2,"method":"mutation","params":{"path":"session.create","input":${nested}}}`);
    for (const id of [1, 2]) {
      const reply = await s.waitForReply(id);
      expect(errorOf(reply), JSON.stringify(reply).slice(0, 300)).toMatchObject({ httpStatus: expect.any(Number), appCode: expect.any(String) });
      expect(errorOf(reply)!.httpStatus).toBeGreaterThanOrEqual(400);
      expect(errorOf(reply)!.httpStatus).toBeLessThan(500);
    }
    expectNo5xx(s);
    await expectSocketServes(s);
    await expectStillMatching();
  });

  it('subscriptions with huge ids start and stop like any other', async () => {
    await using s = await authedSocket();
    for (const id of ['x'.repeat(300_000), 1e308, Number.MAX_SAFE_INTEGER + 2]) {
      s.sendJson({ id, method: 'subscription', params: { path: 'presence.events', input: {} } });
      const reply = await s.waitForReply(id);
      if (errorOf(reply) === null) {
        s.sendJson({ id, method: 'subscription.stop' });
        await s.waitForStopped(id);
      }
    }
    expectNo5xx(s);
    await expectSocketServes(s);
    await expectStillMatching();
  });

  it('a lone surrogate in an input is a 400 INVALID_INPUT, and anywhere else no 5xx', async () => {
    await using s = await authedSocket();
    s.sendJson({ id: 1, method: 'query', params: { path: 'session.me', input: 'abc\ud800' } });
    s.sendJson({ id: 2, method: 'mutation', params: { path: 'match.enqueue', input: { language: '\udfffen' } } });
    s.sendJson({ id: 3, method: 'subscription', params: { path: 'match.events', input: { lastEventId: '\ud800' } } });
    for (const id of [1, 2, 3]) {
      const reply = await s.waitForReply(id);
      expect(errorOf(reply), `id ${id}: ${JSON.stringify(reply).slice(0, 300)}`).toMatchObject({ httpStatus: 400, appCode: 'INVALID_INPUT' });
    }
    s.sendJson({ id: 4, method: 'query', params: { path: 'session.\ud800' } });
    s.sendJson({ id: '\udc00', method: 'query', params: { path: 'session.me' } });
    await s.waitForReply(4);
    await expectSocketServes(s);
    expectNo5xx(s);
    await expectStillMatching();
  });

  it('a text frame that is not UTF-8 closes the socket with 1007', async () => {
    await using s = await authedSocket();
    await expectSocketServes(s);
    s.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), false);
    expect((await s.waitForClose()).code).toBe(1007);
    expectNo5xx(s);
    await expectStillMatching();
  });

  it('connection params that are not an object of strings are refused with a typed 4xx and the socket closed', async () => {
    const frames: Array<string | Buffer> = [
      '"hello"',
      'null',
      '[1]',
      '42',
      '{"method":"connectionParams","data":"x"}',
      '{"method":"connectionParams","data":[1]}',
      '{"method":"connectionParams","data":{"token":5}}',
      JSON.stringify({ method: 'connectionParams', data: { token: '\ud800' } }),
      '{"method":"connectionParams","data":{"token":"a.b.c"},"__proto__":{"polluted":true}}',
      Buffer.from([1, 2, 3]),
    ];
    const offenders: string[] = [];
    for (const frame of frames) {
      await using s = await TestSocket.open(`${app.wsUrl}?connectionParams=1`);
      s.send(frame, Buffer.isBuffer(frame));
      const closed = await s.waitForClose().catch(() => null);
      const what = Buffer.isBuffer(frame) ? 'a binary frame' : frame;
      if (!closed) offenders.push(`${what}: socket left open`);
      if (typed4xx(s).length === 0) offenders.push(`${what}: no typed 4xx (got ${s.frames.join(' ').slice(0, 200)})`);
      expectNo5xx(s);
    }
    expect(offenders).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectStillMatching();
  });

  it('a call sent before the connection params is refused and the socket closed', async () => {
    await using s = await TestSocket.open(`${app.wsUrl}?connectionParams=1`);
    s.sendJson({ id: 1, method: 'query', params: { path: 'session.me' } });
    await s.waitForClose();
    expect(typed4xx(s).length).toBeGreaterThanOrEqual(1);
    expectNo5xx(s);
    await expectStillMatching();
  });

  it('PING before the connection params is answered PONG, and the params still work after it', async () => {
    const { token: fresh } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    await using s = await TestSocket.open(`${app.wsUrl}?connectionParams=1`);
    s.send('PING');
    await s.waitForFrame('PONG');
    s.sendJson({ method: 'connectionParams', data: { token: fresh } });
    await expectSocketServes(s);
    await expectStillMatching();
  });

  it('a frame over the payload limit closes the socket with 1009', async () => {
    await using s = await authedSocket();
    await expectSocketServes(s);
    s.send('x'.repeat(WS_MAX_PAYLOAD + 1));
    expect((await s.waitForClose()).code).toBe(1009);
    await expectStillMatching();
  });

  it('messages after subscription.stop are harmless: the subscription stops once and its id is free again', async () => {
    await using s = await authedSocket();
    s.sendJson({ id: 7, method: 'subscription', params: { path: 'match.events', input: {} } });
    expect(await s.waitForReply(7)).toMatchObject({ result: { type: 'started' } });
    s.sendJson({ id: 7, method: 'subscription.stop' });
    await s.waitForStopped(7);
    s.sendJson({ id: 7, method: 'subscription.stop' });
    s.sendJson({ id: 7, method: 'subscription.stop', params: { path: 'nope' } });
    s.sendJson({ id: 8, method: 'subscription.stop' });
    await expectSocketServes(s);
    const stopped = s.replies().filter((r) => (r as { id?: unknown; result?: { type?: unknown } }).result?.type === 'stopped');
    expect(stopped).toHaveLength(1);
    expectNo5xx(s);
    await expectStillMatching();
  });
});
