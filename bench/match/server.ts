/**
 * One Rendezvous server process for the matchmaking benchmark. Settings come from the environment
 * (as for server/main.ts; REDIS_URL, DATABASE_URL and SESSION_SECRET are required). Reports
 * `{ type: 'listening', url, pid }` over IPC; a `{ type: 'stop' }` message or SIGTERM closes it
 * gracefully, so a `--cpu-prof` profile is written on the way out.
 */
import { loadConfig } from '../../server/config';
import { startServer } from '../../server/app';

const cfg = loadConfig();
if (!cfg.REDIS_URL || !cfg.DATABASE_URL || !cfg.SESSION_SECRET) {
  process.stderr.write('bench server: REDIS_URL, DATABASE_URL and SESSION_SECRET are required\n');
  process.exit(2);
}
const server = await startServer(cfg, { redisUrl: cfg.REDIS_URL, databaseUrl: cfg.DATABASE_URL, sessionSecret: cfg.SESSION_SECRET });
process.send?.({ type: 'listening', url: server.url, pid: process.pid });

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void server.close().finally(() => process.exit(0));
};
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') stop();
});
process.once('SIGTERM', stop);
process.once('disconnect', stop); // the orchestrator went away
