/** /metrics can be closed to the public: behind a token, or on a port of its own. */
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { freePort } from '../support/free-port';

describe('who may read /metrics', () => {
  it('with METRICS_TOKEN, /metrics needs the bearer token', async () => {
    await using app = await startTestApp({ METRICS_TOKEN: 'metrics-token-0123456789' });
    expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789ab' } })).status).toBe(401);
    const ok = await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('refused_requests_total');
  });

  it('with METRICS_PORT, /metrics is served there only, and the public port answers 404', async () => {
    // freePort is not a reservation; a clash fails start-up with "port ... already in use", never silently.
    const port = await freePort();
    await using app = await startTestApp({ METRICS_PORT: String(port) });
    expect((await fetch(`${app.url}/metrics`)).status).toBe(404);
    const own = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('uncaught_errors_total');
    expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
  });
});
