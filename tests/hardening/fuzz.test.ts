/**
 * Every procedure of the app router, called with generated bad input over HTTP (as a caller with
 * no token, as a user and as an operator signed in with the console cookie) and over WebSocket (as
 * a user: operators use HTTP only). Each answer must be a typed
 * refusal: an error with a 4xx status and an `appCode`, UNAUTHORIZED (401) for a caller the
 * procedure is not for, INVALID_INPUT (400) for any lone surrogate, never a 5xx and never data
 * (only a procedure that takes no input may answer, since what it was sent is ignored). Bad input
 * writes nothing: Redis and Postgres look the same before and after the whole run.
 *
 * The inputs are near misses of each procedure's real shape (tests/hardening/inputs.ts) and
 * fc.anything(), both with hostile strings, kept to what the procedure's own schema refuses or
 * what carries a lone surrogate or a NUL. Seeded (FUZZ_SEED, FUZZ_RUNS to explore further);
 * fast-check prints the seed and the shrunk counterexample of a failure.
 */
import type { AnyProcedure } from '@trpc/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { appRouter } from '../../server/trpc/router';
import { startTestApp, type TestApp } from '../support/app';
import { operatorSession, signIn } from '../support/operators';
import { connectUser, httpClient, ADULT } from '../support/client';
import { PROCEDURES, hostileAnything, type Caller, type ProcedureSpec, type ProcedureType } from './inputs';
import { StoresWatch, type StoresPicture } from './stores';
import { TestSocket, errorOf, expectServing, hasLoneSurrogate, watchUncaught, type UncaughtWatch } from './support';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_204);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);
const NAMES = Object.keys(PROCEDURES).sort();
/** Shrinking a failure stops after 15 s (the counterexample found so far is reported). */
const CHECK = { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 15_000 };

type Who = Caller | 'none';
type Message = { id?: unknown; error?: unknown; result?: { type?: string } };
type Reply = { ok: true; text: string } | { ok: false; status: number | null; httpStatus: unknown; appCode: unknown; text: string };

let app: TestApp;
let watch: UncaughtWatch;
let stores: StoresWatch;
let headers: Record<Who, Record<string, string>>;
let sockets: { user: RpcSocket };
let operatorName: string;
let before: StoresPicture;

beforeAll(async () => {
  watch = watchUncaught();
  // The leader's maintenance and checkpoint jobs write on a timer (a lock, a recovery row): kept
  // out of the measured window, which may outlast their 30 s and 60 s intervals on a slow machine.
  app = await startTestApp({ CLEANUP_INTERVAL_MS: '86400000', CHECKPOINT_INTERVAL_MS: '86400000' });
  stores = await StoresWatch.open(app);
  // The fuzzing user has a history (a user hash with a version, transitions in Postgres) and a
  // live socket, so that a write anywhere near them would show.
  const { token } = await httpClient(app.url).session.create.mutate({ displayName: 'Fuzz', consent: ADULT });
  const api = httpClient(app.url, token);
  await api.match.enqueue.mutate({});
  await api.match.cancel.mutate({});
  await api.presence.heartbeat.mutate();
  const operator = await operatorSession(app, 'admin');
  operatorName = operator.operator.name;
  headers = { none: {}, user: { authorization: `Bearer ${token}` }, operator: { cookie: operator.cookie } };
  sockets = { user: await RpcSocket.open(app.wsUrl, { token }) };
  expect((await sockets.user.call('query', 'session.me', undefined)).ok).toBe(true);
  await stores.settle();
  before = await stores.picture();
});

afterAll(async () => {
  for (const s of Object.values(sockets ?? {})) s.close();
  await stores?.[Symbol.asyncDispose]();
  await app?.[Symbol.asyncDispose]();
  watch?.[Symbol.dispose]();
});

type Parser = { safeParse(value: unknown): { success: boolean } };

/** The procedure's own input schema (the router's), or null when it takes no input. */
function parserOf(path: string): Parser | null {
  const procedure = (appRouter._def.procedures as unknown as Record<string, AnyProcedure | undefined>)[path];
  return (procedure?._def.inputs[0] as Parser | undefined) ?? null;
}

/** What the server will see: JSON on the wire drops undefined members, NaN becomes null, and so on. */
function toWire(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function hasNul(value: unknown): boolean {
  return JSON.stringify(value ?? null).includes('\\u0000');
}

/** Bad inputs for a procedure: near misses and anything, kept to what must be refused. */
function badInputs(path: string): fc.Arbitrary<unknown> {
  const spec = PROCEDURES[path]!;
  const parser = parserOf(path);
  const raw = spec.input ? fc.oneof({ weight: 3, arbitrary: spec.input.nearMiss }, { weight: 1, arbitrary: hostileAnything }) : hostileAnything;
  return raw.map(toWire).filter((v) => parser === null || !parser.safeParse(v).success || hasLoneSurrogate(v) || hasNul(v));
}

const show = (v: unknown) => (JSON.stringify(v) ?? 'undefined').slice(0, 200);

/** The answer to a bad input, for this caller, is the refusal the header comment describes. */
function expectRefusal(spec: ProcedureSpec, who: Who, input: unknown, reply: Reply, where: string): void {
  const said = `${where} as ${who} with ${show(input)}: ${reply.text.slice(0, 300)}`;
  const authorised = spec.auth === 'public' || spec.auth === who;
  // An operator procedure refuses a caller who is not signed in to the console with its own code.
  const unauthorised = spec.auth === 'operator' ? ['401 UNAUTHORIZED', '401 OPERATOR_SIGNED_OUT'] : ['401 UNAUTHORIZED'];
  const lone = hasLoneSurrogate(input);
  if (reply.ok) {
    expect(spec.input === null && authorised && !lone, `answered with data, ${said}`).toBe(true);
    return;
  }
  expect(typeof reply.appCode, `no appCode, ${said}`).toBe('string');
  if (reply.status !== null) expect(reply.httpStatus, `status line and data.httpStatus differ, ${said}`).toBe(reply.status);
  const status = typeof reply.httpStatus === 'number' ? reply.httpStatus : 0;
  expect(status >= 400 && status < 500, `not a 4xx, ${said}`).toBe(true);
  const got = `${status} ${String(reply.appCode)}`;
  if (!authorised) expect(lone ? [...unauthorised, '400 INVALID_INPUT'] : unauthorised, said).toContain(got);
  else if (lone) expect(got, said).toBe('400 INVALID_INPUT');
}

function refusal(status: number | null, body: unknown, text: string): Reply {
  const e = errorOf(body);
  return e ? { ok: false, status, httpStatus: e.httpStatus, appCode: e.appCode, text } : { ok: false, status, httpStatus: status, appCode: undefined, text };
}

/** One call over HTTP: GET with ?input= for queries and subscriptions (SSE), POST with a JSON body for mutations. */
async function overHttp(type: ProcedureType, path: string, input: unknown, who: Who): Promise<Reply> {
  const json = input === undefined ? undefined : JSON.stringify(input);
  if (type === 'mutation') {
    // A sign-out that succeeds (it takes no input) ends its own session: it gets one of its own.
    const own = path === 'operators.logout' && who === 'operator' ? { cookie: (await signIn(app.url, operatorName)).cookie } : headers[who];
    const res = await fetch(`${app.url}/trpc/${path}`, { method: 'POST', headers: { ...own, 'content-type': 'application/json' }, body: json });
    return readJson(res);
  }
  const url = `${app.url}/trpc/${path}${json === undefined ? '' : `?input=${encodeURIComponent(json)}`}`;
  const abort = new AbortController();
  try {
    const res = await fetch(url, { headers: headers[who], signal: abort.signal });
    if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return await readJson(res);
    return await readEventStream(res);
  } finally {
    abort.abort();
  }
}

async function readJson(res: Response): Promise<Reply> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {}
  return res.ok && errorOf(body) === null ? { ok: true, text } : refusal(res.status, body, text);
}

/**
 * A subscription over HTTP answers 200 and an event stream at once; a refusal is its first
 * event after `connected` (a `serialized-error`). A stream that carries no error within a
 * moment has started: data.
 */
async function readEventStream(res: Response): Promise<Reply> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const quiet = setTimeout(() => void reader.cancel().catch(() => {}), 300);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { ok: true, text: `event stream ended without an error: ${text}` };
      text += decoder.decode(value, { stream: true });
      for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
        const event = text.slice(0, end);
        text = text.slice(end + 2);
        const name = /^event: ?(.*)$/m.exec(event)?.[1] ?? 'message';
        if (name === 'connected' || name === 'ping' || event.trim() === '') continue;
        const data = event
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trimStart())
          .join('\n');
        if (name !== 'serialized-error') return { ok: true, text: `subscription started: ${event}` };
        return refusal(null, { error: JSON.parse(data) as unknown }, data);
      }
    }
  } catch {
    return { ok: true, text: 'subscription started (no error within 300 ms)' };
  } finally {
    clearTimeout(quiet);
  }
}

/**
 * A WebSocket speaking tRPC's messages, one call at a time per id: a query or mutation waits
 * for its answer; a subscription that starts is stopped at once (and counts as data).
 */
class RpcSocket {
  private nextId = 1;
  private readonly waiting = new Map<number, (msg: Message, text: string) => void>();
  /** Replies to no call in flight (id null: a frame the server could not read). */
  readonly stray: unknown[] = [];
  private closed: string | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      let msg: Message;
      try {
        msg = JSON.parse(text) as Message;
      } catch {
        return;
      }
      const handler = typeof msg.id === 'number' ? this.waiting.get(msg.id) : undefined;
      if (handler) handler(msg, text);
      else this.stray.push(msg);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = `the server closed the socket: ${code} ${reason.toString()}`;
      for (const handler of this.waiting.values()) handler({}, this.closed);
    });
    ws.on('error', () => {});
  }

  static async open(wsUrl: string, params: Record<string, string>): Promise<RpcSocket> {
    const ws = new WebSocket(`${wsUrl}?connectionParams=1`);
    await new Promise<void>((ok, fail) => (ws.once('open', () => ok()), ws.once('error', fail)));
    ws.send(JSON.stringify({ method: 'connectionParams', data: params }));
    return new RpcSocket(ws);
  }

  /** The frame would be over the payload limit (the socket would be closed with 1009, not refused). */
  fits(type: ProcedureType, path: string, input: unknown): boolean {
    return Buffer.byteLength(JSON.stringify({ id: this.nextId, method: type, params: { path, input } })) < app.cfg.WS_MAX_PAYLOAD;
  }

  call(type: ProcedureType, path: string, input: unknown): Promise<Reply> {
    if (this.closed) return Promise.resolve({ ok: false, status: null, httpStatus: undefined, appCode: undefined, text: this.closed });
    const id = this.nextId++;
    return new Promise<Reply>((resolve) => {
      let started = false;
      const finish = (reply: Reply) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(reply);
      };
      const timer = setTimeout(
        () => finish({ ok: false, status: null, httpStatus: undefined, appCode: undefined, text: `no answer to id ${id} within 5 s` }),
        5000,
      );
      this.waiting.set(id, (msg, text) => {
        if (msg.error !== undefined) return finish(refusal(null, msg, text));
        if (msg.result?.type === 'started') {
          started = true;
          return this.ws.send(JSON.stringify({ id, method: 'subscription.stop' }));
        }
        if (msg.result === undefined) return finish({ ok: false, status: null, httpStatus: undefined, appCode: undefined, text });
        if (type === 'subscription' && msg.result.type !== 'stopped') return;
        finish({ ok: true, text: started ? `subscription started: ${text}` : text });
      });
      this.ws.send(JSON.stringify({ id, method: type, params: { path, input } }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

describe('bad input to any procedure is a typed 4xx and writes nothing', () => {
  it('the procedures described here are exactly those of the app router, with their types and inputs', () => {
    const router = appRouter._def.procedures as unknown as Record<string, AnyProcedure>;
    const actual = Object.fromEntries(Object.entries(router).map(([path, p]) => [path, `${p._def.type}, ${p._def.inputs.length > 0 ? 'input' : 'no input'}`]));
    const described = Object.fromEntries(Object.entries(PROCEDURES).map(([path, s]) => [path, `${s.type}, ${s.input ? 'input' : 'no input'}`]));
    expect(described).toEqual(actual);
  });

  it.for(NAMES.filter((n) => PROCEDURES[n]!.input !== null))('the inputs called valid for %s are valid to its schema', (path) => {
    const parser = parserOf(path)!;
    fc.assert(
      fc.property(PROCEDURES[path]!.input!.valid, (v) => parser.safeParse(toWire(v)).success),
      { seed: SEED, numRuns: 50 },
    );
  });

  it.for(NAMES)('%s over HTTP, with no token, a user token and an operator cookie', { timeout: 60_000 }, async (path) => {
    const spec = PROCEDURES[path]!;
    await fc.assert(
      fc.asyncProperty(badInputs(path), async (input) => {
        const callers = ['none', 'user', 'operator'] as const;
        const replies = await Promise.all(callers.map((who) => overHttp(spec.type, path, input, who)));
        callers.forEach((who, i) => expectRefusal(spec, who, input, replies[i]!, `HTTP ${path}`));
      }),
      CHECK,
    );
    expect(watch.seen).toEqual([]);
  });

  it.for(NAMES)('%s over WebSocket, as a user', { timeout: 60_000 }, async (path) => {
    const spec = PROCEDURES[path]!;
    await fc.assert(
      fc.asyncProperty(badInputs(path), async (input) => {
        fc.pre(sockets.user.fits(spec.type, path, input));
        expectRefusal(spec, 'user', input, await sockets.user.call(spec.type, path, input), `WS ${path}`);
      }),
      CHECK,
    );
    expect(watch.seen).toEqual([]);
  });

  it('a WebSocket with no token is refused with a typed 4xx and closed, whatever it calls', { timeout: 60_000 }, async () => {
    const calls = fc.constantFrom(...NAMES).chain((path) => badInputs(path).map((input) => ({ path, input })));
    await fc.assert(
      fc.asyncProperty(calls, async ({ path, input }) => {
        await using s = await TestSocket.open(`${app.wsUrl}?connectionParams=1`);
        s.sendJson({ method: 'connectionParams', data: {} });
        s.sendJson({ id: 1, method: PROCEDURES[path]!.type, params: { path, input } });
        await s.waitForClose();
        const replies = s.replies();
        expect(replies.length, `no answer to ${path} ${show(input)}`).toBeGreaterThan(0);
        for (const r of replies) {
          const e = errorOf(r);
          expect(e, `data for a caller with no token: ${JSON.stringify(r).slice(0, 300)}`).not.toBeNull();
          expect(typeof e!.appCode).toBe('string');
          expect(['401 UNAUTHORIZED', '400 INVALID_INPUT']).toContain(`${String(e!.httpStatus)} ${String(e!.appCode)}`);
        }
      }),
      CHECK,
    );
    expect(watch.seen).toEqual([]);
  });

  it('after all of it: nothing was written, no prototype was polluted, and the process still serves and matches', async () => {
    expect(watch.seen).toEqual([]);
    const stray = sockets.user.stray.map(errorOf);
    expect(stray.filter((e) => e === null || typeof e.httpStatus !== 'number' || e.httpStatus >= 500)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    await expectServing(app);
    expect((await sockets.user.call('query', 'session.me', undefined)).ok).toBe(true);
    await stores.settle();
    expect(await stores.picture()).toEqual(before);

    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    await a.next('matched');
  });
});
