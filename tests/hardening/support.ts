/**
 * What the hardening suites share: a watch on errors nothing caught (in production each would
 * end the process), the "still serving" check, a bare WebSocket that keeps every frame and the
 * close code, and readers for tRPC's error replies.
 */
import { expect, vi } from 'vitest';
import WebSocket from 'ws';
import type { TestApp } from '../support/app';
import { httpClient, ADULT } from '../support/client';

/** Errors that reached the process's last-resort handlers while the watch was on. */
export interface UncaughtWatch extends Disposable {
  readonly seen: string[];
}

export function watchUncaught(): UncaughtWatch {
  const seen: string[] = [];
  const record = (e: unknown) => seen.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.on('uncaughtException', record);
  process.on('unhandledRejection', record);
  return {
    seen,
    [Symbol.dispose]() {
      process.off('uncaughtException', record);
      process.off('unhandledRejection', record);
    },
  };
}

/** The process still answers /healthz and still starts sessions. */
export async function expectServing(app: TestApp): Promise<void> {
  const health = await fetch(`${app.url}/healthz`);
  expect(health.status).toBe(200);
  const s = await httpClient(app.url).session.create.mutate({ displayName: 'Still here', consent: ADULT });
  expect(s.token).toEqual(expect.any(String));
}

/** A lone (unpaired) UTF-16 surrogate, which no UTF-8 text can carry. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether a lone surrogate appears in any string or key of `value` (walked without recursion). */
export function hasLoneSurrogate(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return true;
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/** The parts of a tRPC error reply the hardening suites check. */
export interface ErrorReply {
  httpStatus: unknown;
  appCode: unknown;
  message: unknown;
}

/** The error of a tRPC reply (`{ error: { message, data } }`), or null when it is none. */
export function errorOf(reply: unknown): ErrorReply | null {
  if (reply === null || typeof reply !== 'object' || !('error' in reply)) return null;
  const error = reply.error;
  if (error === null || typeof error !== 'object') return { httpStatus: undefined, appCode: undefined, message: undefined };
  const e = error as { message?: unknown; data?: { httpStatus?: unknown; appCode?: unknown } };
  return { httpStatus: e.data?.httpStatus, appCode: e.data?.appCode, message: e.message };
}

/** A WebSocket to the server that keeps every frame it receives and how it closed. */
export class TestSocket {
  readonly frames: string[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.frames.push(data.toString('utf8')));
    ws.on('close', (code: number, reason: Buffer) => (this.closed = { code, reason: reason.toString() }));
    ws.on('error', () => {});
  }

  static async open(wsUrl: string, headers: Record<string, string> = {}): Promise<TestSocket> {
    const ws = new WebSocket(wsUrl, { headers });
    const socket = new TestSocket(ws);
    await new Promise<void>((ok, fail) => {
      ws.once('open', () => ok());
      ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused with ${res.statusCode}`)));
      ws.once('error', fail);
    });
    return socket;
  }

  send(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  sendJson(value: unknown): void {
    this.ws.send(JSON.stringify(value));
  }

  /** Every frame that is JSON, parsed (others, like "PONG", are left out). */
  replies(): unknown[] {
    const out: unknown[] = [];
    for (const f of this.frames) {
      try {
        out.push(JSON.parse(f));
      } catch {}
    }
    return out;
  }

  /** The reply with this id (the first one). */
  reply(id: unknown): unknown {
    return this.replies().find((r) => r !== null && typeof r === 'object' && (r as { id?: unknown }).id === id);
  }

  async waitForReply(id: unknown, timeout = 5000): Promise<unknown> {
    await vi.waitFor(() => expect(this.reply(id), `no reply to id ${String(id).slice(0, 40)}`).toBeDefined(), { timeout, interval: 10 });
    return this.reply(id);
  }

  /** Waits for the subscription `id` to be answered `stopped`. */
  async waitForStopped(id: unknown, timeout = 5000): Promise<void> {
    const stopped = () => this.replies().some((r) => (r as { id?: unknown }).id === id && (r as { result?: { type?: unknown } }).result?.type === 'stopped');
    await vi.waitFor(() => expect(stopped(), `subscription ${String(id).slice(0, 40)} never stopped`).toBe(true), { timeout, interval: 10 });
  }

  async waitForFrame(frame: string, timeout = 5000): Promise<void> {
    await vi.waitFor(() => expect(this.frames).toContain(frame), { timeout, interval: 10 });
  }

  async waitForClose(timeout = 5000): Promise<{ code: number; reason: string }> {
    await vi.waitFor(() => expect(this.closed, 'the server did not close the socket').not.toBeNull(), { timeout, interval: 10 });
    return this.closed!;
  }

  /** Closes from our side (if still open) and waits for the close to complete. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((ok) => this.ws.once('close', () => ok()));
    this.ws.close();
    await done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
