/**
 * A WebSocket speaking tRPC's wire protocol by hand, for tests that send what no well-behaved
 * client would (too many subscriptions, oversized batches) and read every reply as it comes.
 */
import WebSocket from 'ws';

export interface Reply {
  id: number | string | null;
  result?: { type: string; data?: unknown };
  error?: { message: string; data: { appCode?: string; httpStatus?: number; code?: string } };
}

export interface RawSocket extends AsyncDisposable {
  ws: WebSocket;
  replies: Reply[];
  send(msg: unknown): void;
  /** The first reply matching `pred`, received already or later. */
  reply(pred: (r: Reply) => boolean, timeoutMs?: number): Promise<Reply>;
  /** Resolves with the close code once the server closes the socket. */
  closed: Promise<{ code: number; reason: string }>;
}

export async function openRaw(wsUrl: string, token?: string, headers: Record<string, string> = {}): Promise<RawSocket> {
  const ws = new WebSocket(`${wsUrl}?connectionParams=1`, { headers });
  const replies: Reply[] = [];
  const waiters = new Set<() => void>();
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    if (text === 'PONG') return;
    replies.push(JSON.parse(text) as Reply);
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  if (token !== undefined) ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  const reply = (pred: (r: Reply) => boolean, timeoutMs = 5000) =>
    new Promise<Reply>((resolve, reject) => {
      const check = () => {
        const hit = replies.find(pred);
        if (!hit) return;
        waiters.delete(check);
        clearTimeout(t);
        resolve(hit);
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no such reply within ${timeoutMs} ms; got ${JSON.stringify(replies).slice(0, 500)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return {
    ws,
    replies,
    send: (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg)),
    reply,
    closed,
    async [Symbol.asyncDispose]() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
      await closed;
    },
  };
}

export function subscribe(id: number, path = 'match.events', input: unknown = {}) {
  return { id, method: 'subscription', params: { path, input } };
}
