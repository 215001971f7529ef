/**
 * A socket lives no longer than its session, and only pages of our own origin may open one.
 */
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { httpClient, ADULT } from '../support/client';
import { openRaw } from './raw-ws';

describe('sessions and origins on the WebSocket', () => {
  it("a socket is closed when its session expires, after being told to renew (the client's cue for a new session)", async () => {
    await using app = await startTestApp({ SESSION_TTL_MS: '1500' });
    const { token, expiresAt } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    await using sock = await openRaw(app.wsUrl, token);
    sock.send({ id: 1, method: 'query', params: { path: 'session.me' } });
    await sock.reply((r) => r.id === 1 && r.result?.type === 'data');
    const { code } = await sock.closed;
    expect(code).toBe(4401);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 50);
    const notice = sock.replies.find((r) => r.id === null);
    expect(notice?.error?.data).toMatchObject({ code: 'UNAUTHORIZED', appCode: 'UNAUTHORIZED' });
    expect(notice?.error?.message).toMatch(/expired/);
  });

  it("a revoked session's sockets close on every server process at once", async () => {
    await using one = await startTestApp();
    await using two = await startTestApp(one.redisEnv, { redisUrl: one.redisUrl, prefix: one.prefix, databaseUrl: one.databaseUrl });
    const { token, userId } = await httpClient(one.url).session.create.mutate({ consent: ADULT });
    await using onTwo = await openRaw(two.wsUrl, token);
    onTwo.send({ id: 1, method: 'query', params: { path: 'session.me' } });
    await onTwo.reply((r) => r.id === 1 && r.result?.type === 'data');
    // The socket is on the other process: only the published revocation can reach it.
    await one.server.services.presence.endSession(userId, 'test', 60_000, (s) => s.close());
    expect((await onTwo.closed).code).toBe(4403);
    expect(onTwo.replies.find((r) => r.id === null)?.error?.data.appCode).toBe('UNAUTHORIZED');
    // And the token is refused from now on.
    await using again = await openRaw(two.wsUrl, token);
    expect((await again.reply((r) => r.id === null)).error?.data.appCode).toBe('UNAUTHORIZED');
  });

  it('the Origin check compares scheme, host and port, not the host alone', async () => {
    await using app = await startTestApp();
    const { token } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const own = new URL(app.url);
    await using same = await openRaw(app.wsUrl, token, { origin: own.origin });
    expect(same.ws.readyState).toBe(same.ws.OPEN);
    for (const origin of [`https://${own.host}`, `http://${own.hostname}:1`, 'http://evil.example', 'null']) {
      await expect(openRaw(app.wsUrl, token, { origin })).rejects.toThrow('upgrade refused: 403');
    }
  });

  it('behind a proxy (TRUST_PROXY), the scheme the page was served with is the one compared', async () => {
    await using app = await startTestApp({ TRUST_PROXY: 'true' });
    const { token } = await httpClient(app.url).session.create.mutate({ consent: ADULT });
    const host = new URL(app.url).host;
    await using viaTls = await openRaw(app.wsUrl, token, { origin: `https://${host}`, 'x-forwarded-proto': 'https' });
    expect(viaTls.ws.readyState).toBe(viaTls.ws.OPEN);
    await expect(openRaw(app.wsUrl, token, { origin: `http://${host}`, 'x-forwarded-proto': 'https' })).rejects.toThrow('upgrade refused: 403');
  });
});
