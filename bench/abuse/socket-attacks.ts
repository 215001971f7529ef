/**
 * The attacks on the WebSocket endpoint itself, with raw `ws` sockets speaking tRPC's wire
 * protocol (server/http/trpc-ws.ts): one socket opening subscription after subscription (e), and
 * sockets that are opened and held, half never authenticating and half all signed in as one
 * user (f). A socket the server closes is counted (`closedByServer`, by close code).
 */
import WebSocket from 'ws';
import { botAddress } from './addresses';
import { mintToken } from './http';
import { pace, REQUEST_TIMEOUT_MS, statusOutcome, TimeoutError, withTimeout } from './pace';
import type { Attack, AttackContext } from './context';

function wsUrl(ctx: AttackContext): string {
  return `${ctx.url.replace('http', 'ws')}/trpc?connectionParams=1`;
}

function params(token: string): string {
  return JSON.stringify({ method: 'connectionParams', data: { token } });
}

interface Reply {
  id: number | string | null;
  result?: { type?: string };
  error?: { data?: { httpStatus?: number; appCode?: string } };
}

/** Opens a socket; rejects with the outcome word when it cannot. */
function open(url: string, localAddress: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new TimeoutError('socket did not open'));
    }, REQUEST_TIMEOUT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(ws);
    });
    ws.once('unexpected-response', (req, res) => {
      clearTimeout(timer);
      req.destroy();
      reject(new Error(statusOutcome(res.statusCode ?? 0)));
    });
    ws.once('error', () => {
      clearTimeout(timer);
      reject(new Error('connError'));
    });
  });
}

const outcomeOf = (e: unknown) => (e instanceof TimeoutError ? 'timeout' : e instanceof Error ? e.message : 'connError');

/** e) one signed-in socket opening `match.events` subscriptions, each with a new id, never stopping one. */
export const subscriptionFlood: Attack = (ctx) => async () => {
  const { token } = mintToken(ctx.secret);
  // Subscriptions waiting for their first answer: `started`, or an error (by its appCode).
  const pending = new Map<number, (outcome: string, why?: string) => void>();
  let socket: Promise<WebSocket> | null = null;
  let seq = 0;
  const connect = () =>
    open(wsUrl(ctx), ctx.sourceAddress).then((ws) => {
      ws.send(params(token));
      ws.on('message', (data: Buffer) => {
        let m: Reply;
        try {
          m = JSON.parse(data.toString('utf8')) as Reply;
        } catch {
          return;
        }
        if (m.id === null) ctx.tally.add('connectionRefused', `connection: ${m.error?.data?.appCode ?? 'error'}`);
        const settle = typeof m.id === 'number' ? pending.get(m.id) : undefined;
        if (!settle || (m.result && m.result.type !== 'started')) return;
        pending.delete(m.id as number);
        settle(m.error ? statusOutcome(m.error.data?.httpStatus ?? 500) : 'ok', m.error?.data?.appCode);
      });
      ws.once('close', (code) => {
        if (!ctx.signal.aborted) ctx.tally.add('closedByServer', `socket closed ${code}`);
        for (const settle of pending.values()) settle('connError', 'socket closed');
        pending.clear();
        socket = null;
      });
      return ws;
    });
  await pace({
    ...ctx,
    op: async () => {
      let ws: WebSocket;
      try {
        ws = await (socket ??= connect().catch((e: unknown) => {
          socket = null;
          throw e;
        }));
      } catch (e) {
        return outcomeOf(e);
      }
      const id = ++seq;
      const answered = new Promise<[string, string | undefined]>((resolve) => pending.set(id, (outcome, why) => resolve([outcome, why])));
      ws.send(JSON.stringify({ id, method: 'subscription', params: { path: 'match.events', input: {} } }));
      const [outcome, why] = await withTimeout(answered).finally(() => pending.delete(id));
      ctx.tally.add(outcome, why ? `subscribe (${why})` : 'subscribe');
    },
  });
  if (socket) (await (socket as Promise<WebSocket>).catch(() => null))?.terminate();
};

/**
 * f) sockets held open: even ones never send connectionParams and each comes from a new address
 * (a botnet), odd ones all come from the attacker's address and carry one user's token.
 */
export const idleSockets: Attack = (ctx) => async () => {
  const { token } = mintToken(ctx.secret);
  const held: WebSocket[] = [];
  const ours = new WeakSet<WebSocket>();
  await pace({
    ...ctx,
    op: async (i) => {
      const kind = i % 2 ? 'one user, many sockets' : 'never authenticates';
      let ws: WebSocket;
      try {
        ws = await open(wsUrl(ctx), i % 2 ? ctx.sourceAddress : botAddress(i / 2));
      } catch (e) {
        ctx.tally.add(outcomeOf(e), kind);
        return;
      }
      if (i % 2) ws.send(params(token));
      ws.once('close', (code) => {
        if (ours.has(ws)) return;
        ctx.tally.add('closedByServer', `${kind}: closed ${code}`);
        const k = held.indexOf(ws);
        if (k >= 0) held.splice(k, 1);
      });
      held.push(ws);
      // Past the cap the oldest goes: the attack is a standing crowd of sockets, not an ever-growing one.
      for (; held.length > ctx.holdSockets; ours.add(held[0]!), held.shift()!.terminate());
      ctx.tally.add('ok', kind);
    },
  });
  for (const ws of held) {
    ours.add(ws);
    ws.terminate();
  }
};
