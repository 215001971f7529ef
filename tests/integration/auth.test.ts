import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import { describe, expect, it } from 'vitest';
import type { AppRouter } from '../../server/trpc/router';
import { issueToken } from '../../server/session/token';
import { startTestApp } from '../support/app';
import { httpClient, ADULT } from '../support/client';

/** Opens a socket with these connection params and reports how the server answered. */
function trySocket(wsUrl: string, params: Record<string, string> | null, headers: Record<string, string> = {}) {
  return new Promise<{ closed: boolean; status?: number; message?: string }>((resolve) => {
    const url = params ? `${wsUrl}?connectionParams=1` : wsUrl;
    const ws = new WebSocket(url, { headers });
    let message: string | undefined;
    ws.on('unexpected-response', (_req, res) => resolve({ closed: true, status: res.statusCode }));
    ws.on('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: params }));
      ws.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'session.me', input: undefined } }));
    });
    ws.on('message', (d: Buffer) => {
      message ??= d.toString();
    });
    ws.on('close', () => resolve({ closed: true, message }));
    ws.on('error', () => {});
  });
}

describe('sessions and auth', () => {
  it('a session token lets a client act as itself over HTTP and WebSocket', async () => {
    await using app = await startTestApp();
    const s = await httpClient(app.url).session.create.mutate({ displayName: 'Ann', consent: ADULT });
    expect(s.expiresAt).toBeGreaterThan(Date.now());
    const me = await httpClient(app.url, s.token).session.me.query();
    expect(me).toMatchObject({ userId: s.userId, displayName: 'Ann', state: 'IDLE' });

    const ws = createWSClient({ url: app.wsUrl, WebSocket: WebSocket as never, connectionParams: { token: s.token } });
    const api = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
    expect((await api.session.me.query()).userId).toBe(s.userId);
    await ws.close();
  });

  it('HTTP calls without a token, with a forged token or with an expired token are UNAUTHORIZED', async () => {
    await using app = await startTestApp();
    await expect(httpClient(app.url).session.me.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    const forged = issueToken({ sub: 'x', name: 'x', exp: Date.now() + 60_000 }, 'not-the-server-secret-0123456789abcdef');
    await expect(httpClient(app.url, forged).session.me.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    const expired = issueToken({ sub: 'x', name: 'x', exp: Date.now() - 1 }, 'test-session-secret-0123456789abcdef');
    await expect(httpClient(app.url, expired).session.me.query()).rejects.toMatchObject({ message: 'Your session has expired. Please reload the page.' });
  });

  it('a WebSocket without a token, or with a forged or expired one, is refused and closed', async () => {
    await using app = await startTestApp();
    const expired = issueToken({ sub: 'x', name: 'x', exp: Date.now() - 1 }, 'test-session-secret-0123456789abcdef');
    const cases: Array<Record<string, string>> = [{}, { token: 'garbage.token' }, { token: expired }];
    for (const params of cases) {
      const r = await trySocket(app.wsUrl, params);
      expect(r.closed).toBe(true);
      expect(r.message).toContain('UNAUTHORIZED');
    }
  });

  it('a WebSocket upgrade from a foreign Origin is refused with 403', async () => {
    await using app = await startTestApp();
    const r = await trySocket(app.wsUrl, null, { origin: 'https://evil.example' });
    expect(r.status).toBe(403);
  });

  it('bad input gets a typed error and changes nothing', async () => {
    await using app = await startTestApp();
    const s = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const api = httpClient(app.url, s.token);
    await expect(api.match.enqueue.mutate({ interests: Array.from({ length: 11 }, (_, i) => `t${i}`) })).rejects.toMatchObject({
      data: { code: 'BAD_REQUEST' },
    });
    expect((await api.session.me.query()).state).toBe('IDLE');
  });
});
