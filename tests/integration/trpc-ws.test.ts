/**
 * The WebSocket endpoint speaks tRPC's protocol itself (server/http/trpc-ws.ts, for memory).
 * Checked here against the stock adapter: the same messages sent to both give the same replies.
 */
import type { AddressInfo } from 'node:net';
import { initTRPC, tracked, TRPCError, type AnyRouter } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { describe, expect, it, vi } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { z } from 'zod';
import { logTrpcWsError } from '../../server/http/trpc-errors';
import { TrpcWsServer, type ConnectionParams, type TrpcWsOptions } from '../../server/http/trpc-ws';
import type { Logger } from '../../server/infra/logger';
import { RawJson } from '../../server/shared/raw-json';

const t = initTRPC.context<{ user: string | null }>().create({ isDev: false });
const router = t.router({
  hello: t.procedure.input(z.object({ name: z.string() }).optional()).query(({ input, ctx }) => `hello ${input?.name ?? ctx.user}`),
  add: t.procedure.input(z.object({ a: z.number(), b: z.number() })).mutation(({ input }) => input.a + input.b),
  forbidden: t.procedure.query(() => {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'not for you' });
  }),
  count: t.procedure.input(z.object({ to: z.number(), lastEventId: z.string().nullish() })).subscription(async function* ({ input }) {
    for (let i = Number(input.lastEventId ?? 0) + 1; i <= input.to; i++) yield tracked(String(i), { n: i });
  }),
  letters: t.procedure.subscription(async function* () {
    yield 'a';
    yield 'b';
  }),
  forever: t.procedure.subscription(async function* ({ signal }) {
    yield 1;
    await new Promise((resolve) => signal!.addEventListener('abort', resolve));
  }),
  broken: t.procedure.subscription(async function* () {
    yield 1;
    throw new TRPCError({ code: 'CONFLICT', message: 'broke' });
  }),
  // Data that is already JSON (events as the scripts wrote them) goes out verbatim from ours.
  raw: t.procedure.input(z.object({ lastEventId: z.string().nullish() }).optional()).subscription(async function* () {
    yield tracked('global|1-0', RawJson.object('{"type":"chat","text":"a \\"quoted\\" é","n":[1,2.5]}'));
    yield tracked('global|1-1', RawJson.object('{"type":"state"}'));
  }),
  refused: t.procedure.subscription(() => {
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first' });
  }),
});

function context(params: ConnectionParams) {
  if (params?.user === 'mallory') throw new TRPCError({ code: 'UNAUTHORIZED', message: 'bad token' });
  return Promise.resolve({ user: params?.user ?? null });
}

const silent = { error: () => {} };

/** A WebSocket server on a free port, serving `router` with the stock adapter or ours. */
async function serve(kind: 'stock' | 'ours') {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  if (kind === 'stock') {
    applyWSSHandler({ wss, router, createContext: ({ info }) => context(info.connectionParams) });
  } else {
    const ours = new TrpcWsServer({ router, createContext: (params) => context(params), maxSubscriptions: 1000, maxBatch: 1000, log: silent });
    wss.on('connection', (ws, req) => ours.accept(ws, (req.url ?? '').includes('connectionParams=1'), req.socket));
  }
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    [Symbol.asyncDispose]: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

/** What one step sends, and the frames it is answered with: `frames` of them, then the close when `close`. */
interface Step {
  send: string | Buffer | object;
  frames: number;
  close?: boolean;
}

/**
 * Opens a socket, sends each step and collects its answer: the step's number of frames (and the
 * close, when it expects one) before the next step is sent. A frame too many shows up in the
 * next step's answer; one too few fails the step after STEP_TIMEOUT_MS.
 */
async function transcript(url: string, opening: Omit<Step, 'send'>, steps: Step[], params: Record<string, string> | null): Promise<string[][]> {
  const ws = new WebSocket(`${url}/${params ? '?connectionParams=1' : ''}`);
  let got: string[] = [];
  let closed = false;
  let check = () => {};
  ws.on('message', (m: Buffer) => {
    got.push(m.toString());
    check();
  });
  ws.on('close', () => {
    closed = true;
    check();
  });
  await new Promise((resolve) => ws.once('open', resolve));
  const out: string[][] = [];
  const answer = (what: string, expect: Omit<Step, 'send'>) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${what}: expected ${expect.frames} frames${expect.close ? ' and the close' : ''}, got ${JSON.stringify(got)}`)),
        STEP_TIMEOUT_MS,
      );
      check = () => {
        if (got.length < expect.frames || (expect.close && !closed)) return;
        clearTimeout(timer);
        out.push(got);
        got = [];
        resolve();
      };
      check();
    });
  const opened = answer('the opening', opening);
  if (params) ws.send(JSON.stringify({ method: 'connectionParams', data: params }));
  await opened;
  for (const [i, step] of steps.entries()) {
    if (closed) break;
    const answered = answer(`step ${i} (${JSON.stringify(step.send).slice(0, 80)})`, step);
    ws.send(typeof step.send === 'string' || Buffer.isBuffer(step.send) ? step.send : JSON.stringify(step.send));
    await answered;
  }
  out.push([closed ? 'closed' : 'open']);
  ws.close();
  return out;
}

// Longest wait for a step's answer (both servers answer within milliseconds; this only bounds a failure).
const STEP_TIMEOUT_MS = 5000;

const call = (id: number, method: string, path: string, input?: unknown, lastEventId?: string) => ({ id, method, params: { path, input, lastEventId } });
const step = (send: Step['send'], frames: number): Step => ({ send, frames });

const SESSION: Step[] = [
  step('PING', 1),
  step(call(1, 'query', 'hello'), 1),
  step(call(2, 'query', 'hello', { name: 'Bob' }), 1),
  step(call(3, 'mutation', 'add', { a: 2, b: 3 }), 1),
  step(call(4, 'mutation', 'add', { a: 'x' }), 1),
  step(call(5, 'query', 'forbidden'), 1),
  step(call(6, 'query', 'nowhere'), 1),
  step('{not json', 1),
  step({ id: null, method: 'query', params: { path: 'hello' } }, 1),
  // started, three items, stopped
  step(call(7, 'subscription', 'count', { to: 3 }), 5),
  step(call(8, 'subscription', 'count', { to: 4 }, '2'), 4),
  step(call(9, 'subscription', 'letters'), 4),
  // started and its one item; it then waits for its signal
  step(call(10, 'subscription', 'forever'), 2),
  step(call(10, 'subscription', 'forever'), 1),
  step({ id: 10, method: 'subscription.stop' }, 1),
  // started, an item, the error, stopped
  step(call(11, 'subscription', 'broken'), 4),
  step(call(12, 'subscription', 'refused'), 1),
  step(call(13, 'query', 'add', { a: 1, b: 1 }), 1),
  step([call(14, 'query', 'hello'), call(15, 'mutation', 'add', { a: 1, b: 2 })], 2),
  step(call(16, 'subscription', 'forever'), 2),
  // stopped before it started: only `stopped`
  step([call(17, 'subscription', 'forever'), { id: 17, method: 'subscription.stop' }], 1),
  step(Buffer.from(JSON.stringify(call(18, 'query', 'hello'))), 1),
  step(call(19, 'subscription', 'raw'), 4),
  step({ ...call(20, 'subscription', 'raw'), jsonrpc: '2.0' }, 4),
  // Answered by nothing; the last step, so the hello after it shows nothing came late.
  step('PONG', 0),
  step(call(21, 'query', 'hello'), 1),
];

describe('tRPC over WebSocket, served by our own handler', () => {
  it('answers a whole session exactly as the stock adapter does', async () => {
    await using stock = await serve('stock');
    await using ours = await serve('ours');
    const opening = { frames: 0 };
    const [a, b] = await Promise.all([transcript(stock.url, opening, SESSION, { user: 'ann' }), transcript(ours.url, opening, SESSION, { user: 'ann' })]);
    expect(b).toEqual(a);
    // Spot checks, so the comparison is known to have covered something.
    expect(b[1]).toEqual(['PONG']);
    expect(b[10]!.map((m) => JSON.parse(m) as unknown)).toEqual([
      { id: 7, result: { type: 'started' } },
      ...[1, 2, 3].map((n) => ({ id: 7, result: { type: 'data', id: String(n), data: { id: String(n), data: { n } } } })),
      { id: 7, result: { type: 'stopped' } },
    ]);
  });

  it('makes the context from the connection params, or at once without them, and refuses a bad one', async () => {
    await using stock = await serve('stock');
    await using ours = await serve('ours');
    const steps = [step(call(1, 'query', 'hello'), 1), step(call(2, 'subscription', 'letters'), 4)];
    for (const [params, opening] of [
      [null, { frames: 0 }],
      // Refused: the error, then the socket closes, and no step is sent.
      [{ user: 'mallory' }, { frames: 1, close: true }],
    ] as const) {
      const [a, b] = await Promise.all([transcript(stock.url, opening, steps, params), transcript(ours.url, opening, steps, params)]);
      expect(b).toEqual(a);
      expect(b.at(-1)).toEqual([params ? 'closed' : 'open']);
    }
  });
});

/** Our handler alone on a free port, with its options; `open` connects a socket that needs no connection params. */
async function serveOurs<R extends AnyRouter>(opts: TrpcWsOptions<R>) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  const ours = new TrpcWsServer(opts);
  wss.on('connection', (ws, req) => ours.accept(ws, false, req.socket));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  return {
    async open() {
      const ws = new WebSocket(url);
      const replies: string[] = [];
      ws.on('message', (m: Buffer) => replies.push(m.toString()));
      await new Promise((resolve) => ws.once('open', resolve));
      return { ws, replies };
    },
    [Symbol.asyncDispose]: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

describe('our handler beyond the protocol', () => {
  it('aborts the signal of a query or mutation still running when its socket closes, and reports no error for it', async () => {
    let started!: () => void;
    let aborted!: () => void;
    const wasStarted = new Promise<void>((r) => (started = r));
    const wasAborted = new Promise<void>((r) => (aborted = r));
    const tw = initTRPC.create({ isDev: false });
    const slow = tw.router({
      wait: tw.procedure.mutation(({ signal }) => {
        started();
        return new Promise((_, reject) =>
          signal!.addEventListener('abort', () => {
            aborted();
            reject(signal!.reason as Error);
          }),
        );
      }),
    });
    const onError = vi.fn();
    await using server = await serveOurs({ router: slow, createContext: () => Promise.resolve({}), maxSubscriptions: 1, maxBatch: 1, onError, log: silent });
    const { ws } = await server.open();
    ws.send(JSON.stringify(call(1, 'mutation', 'wait')));
    await wasStarted;
    ws.close();
    await wasAborted;
    // The rejection has gone through the handler by the next turn.
    await new Promise((r) => setImmediate(r));
    expect(onError).not.toHaveBeenCalled();
  });

  it('logs a failure of its own handling when there is no onError, or when onError throws, and still answers', async () => {
    const tf = initTRPC.create({
      isDev: false,
      errorFormatter: () => {
        throw new Error('formatter broke');
      },
    });
    const failing = tf.router({
      no: tf.procedure.query(() => {
        throw new TRPCError({ code: 'FORBIDDEN', message: 'no' });
      }),
    });
    for (const onError of [undefined, () => void JSON.parse('{')]) {
      const log = { error: vi.fn() };
      await using server = await serveOurs({ router: failing, createContext: () => Promise.resolve({}), maxSubscriptions: 1, maxBatch: 1, onError, log });
      const { ws, replies } = await server.open();
      ws.send(JSON.stringify(call(1, 'query', 'no')));
      await vi.waitFor(() => expect(replies).toHaveLength(1));
      expect(JSON.parse(replies[0]!)).toEqual({
        id: 1,
        error: { code: -32603, message: 'Internal server error', data: { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 } },
      });
      await vi.waitFor(() =>
        expect(log.error).toHaveBeenCalledWith(expect.objectContaining({ err: expect.objectContaining({ message: 'formatter broke' }) }), expect.any(String)),
      );
      ws.close();
    }
  });
});

describe('errors over the WebSocket, in the log', () => {
  it('a failure on our side is logged at error level with its cause; a refusal a client caused at debug only', () => {
    const log = { error: vi.fn(), debug: vi.fn() };
    const onError = logTrpcWsError(log as unknown as Logger);
    const cause = new Error('Connection is closed.');
    onError({ error: new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause }), type: 'mutation', path: 'match.enqueue', input: {}, ctx: {} });
    onError({ error: new TRPCError({ code: 'BAD_REQUEST', message: 'bad input' }), type: 'query', path: 'session.me', input: 1, ctx: {} });
    expect(log.error).toHaveBeenCalledTimes(1);
    const [fields] = log.error.mock.calls[0] as [{ err: TRPCError; path: string; type: string }];
    expect(fields).toMatchObject({ path: 'match.enqueue', type: 'mutation' });
    expect(fields.err.cause).toBe(cause);
    expect(log.debug).toHaveBeenCalledTimes(1);
    expect(log.debug.mock.calls[0]![0]).toMatchObject({ code: 'BAD_REQUEST', path: 'session.me' });
  });
});
