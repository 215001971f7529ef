/**
 * Idle clients for the memory measurement: each connects and subscribes to its events, as an
 * open browser tab does, and then does nothing. Config (JSON in BENCH_CONFIG): { urls, secret,
 * clients, subscribe? } (subscribe: false connects and authenticates without subscribing). Reports `{ type: 'ready', connected, failed }`; `{ type: 'stop' }` closes them all.
 */
import { connectMany } from './client';

const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as { urls: string[]; secret: string; clients: number; subscribe?: boolean };
let lastError = '';
const { clients, failed } = await connectMany(
  cfg.clients,
  cfg.urls,
  cfg.secret,
  () => {},
  (e) => (lastError = String(e)),
  250,
  cfg.subscribe ?? true,
);
process.send?.({ type: 'ready', connected: clients.length, failed, lastError });

process.on('message', (m: { type?: string }) => {
  if (m.type !== 'stop') return;
  void Promise.allSettled(clients.map((c) => c.close())).then(() => process.exit(0));
});
process.once('disconnect', () => process.exit(0));
