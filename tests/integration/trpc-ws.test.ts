/**
 * The WebSocket endpoint speaks tRPC's protocol itself (server/http/trpc-ws.ts, for memory).
 * Checked here against the stock adapter: the same messages sent to both give the same replies.
 */
import type { AddressInfo } from 'node:net';
import { initTRPC, tracked, TRPCError } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { z } from 'zod';
import { TrpcWsServer, type ConnectionParams } from '../../server/http/trpc-ws';
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

/** A WebSocket server on a free port, serving `router` with the stock adapter or ours. */
async function serve(kind: 'stock' | 'ours') {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  if (kind === 'stock') {
    applyWSSHandler({ wss, router, createContext: ({ info }) => context(info.connectionParams) });
  } else {
    const ours = new TrpcWsServer({ router, createContext: (params) => context(params), maxSubscriptions: 1000, maxBatch: 1000 });
    wss.on('connection', (ws, req) => ours.accept(ws, (req.url ?? '').includes('connectionParams=1')));
  }
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    [Symbol.asyncDispose]: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

/** Opens a socket, sends each step and collects what comes back until the server is quiet. */
async function transcript(url: string, steps: Array<string | Buffer | object>, params: Record<string, string> | null): Promise<string[][]> {
  const ws = new WebSocket(`${url}/${params ? '?connectionParams=1' : ''}`);
  let got: string[] = [];
  let last = Date.now();
  ws.on('message', (m) => {
    got.push((m as Buffer).toString());
    last = Date.now();
  });
  let closed = false;
  ws.on('close', () => (closed = true));
  await new Promise((resolve) => ws.once('open', resolve));
  if (params) ws.send(JSON.stringify({ method: 'connectionParams', data: params }));
  const out: string[][] = [];
  const quiet = async () => {
    last = Date.now();
    while (Date.now() - last < 150 && !closed) await new Promise((r) => setTimeout(r, 10));
    out.push(got);
    got = [];
  };
  await quiet();
  for (const step of steps) {
    if (closed) break;
    ws.send(typeof step === 'string' || Buffer.isBuffer(step) ? step : JSON.stringify(step));
    await quiet();
  }
  out.push([closed ? 'closed' : 'open']);
  ws.close();
  return out;
}

const call = (id: number, method: string, path: string, input?: unknown, lastEventId?: string) => ({ id, method, params: { path, input, lastEventId } });

const SESSION: Array<string | Buffer | object> = [
  'PING',
  call(1, 'query', 'hello'),
  call(2, 'query', 'hello', { name: 'Bob' }),
  call(3, 'mutation', 'add', { a: 2, b: 3 }),
  call(4, 'mutation', 'add', { a: 'x' }),
  call(5, 'query', 'forbidden'),
  call(6, 'query', 'nowhere'),
  '{not json',
  { id: null, method: 'query', params: { path: 'hello' } },
  call(7, 'subscription', 'count', { to: 3 }),
  call(8, 'subscription', 'count', { to: 4 }, '2'),
  call(9, 'subscription', 'letters'),
  call(10, 'subscription', 'forever'),
  call(10, 'subscription', 'forever'),
  { id: 10, method: 'subscription.stop' },
  call(11, 'subscription', 'broken'),
  call(12, 'subscription', 'refused'),
  call(13, 'query', 'add', { a: 1, b: 1 }),
  [call(14, 'query', 'hello'), call(15, 'mutation', 'add', { a: 1, b: 2 })],
  call(16, 'subscription', 'forever'),
  [call(17, 'subscription', 'forever'), { id: 17, method: 'subscription.stop' }],
  Buffer.from(JSON.stringify(call(18, 'query', 'hello'))),
  call(19, 'subscription', 'raw'),
  { ...call(20, 'subscription', 'raw'), jsonrpc: '2.0' },
  'PONG',
];

describe('tRPC over WebSocket, served by our own handler', () => {
  it('answers a whole session exactly as the stock adapter does', async () => {
    await using stock = await serve('stock');
    await using ours = await serve('ours');
    const [a, b] = await Promise.all([transcript(stock.url, SESSION, { user: 'ann' }), transcript(ours.url, SESSION, { user: 'ann' })]);
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
    for (const params of [null, { user: 'mallory' }]) {
      const steps = [call(1, 'query', 'hello'), call(2, 'subscription', 'letters')];
      const [a, b] = await Promise.all([transcript(stock.url, steps, params), transcript(ours.url, steps, params)]);
      expect(b).toEqual(a);
    }
  });
});
