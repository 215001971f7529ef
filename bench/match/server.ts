/**
 * One Rendezvous server process for the matchmaking benchmark. Settings come from the environment
 * (as for server/main.ts; REDIS_URL, DATABASE_URL and SESSION_SECRET are required). Reports
 * `{ type: 'listening', url, pid }` over IPC; a `{ type: 'stop' }` message or SIGTERM closes it
 * gracefully, so a `--cpu-prof` profile is written on the way out.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
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
process.on('message', (m: { type?: string; path?: string; gc?: boolean }) => {
  if (m.type === 'stop') stop();
  if (m.type === 'memory') process.send?.(memory(m.gc !== false));
  if (m.type === 'snapshot') process.send?.({ type: 'snapshot', path: writeHeapSnapshot(m.path) });
  if (m.type === 'profile-start') void profileStart().then(() => process.send?.({ type: 'profile-started' }));
  if (m.type === 'profile-stop') void profileStop(m.path!).then(() => process.send?.({ type: 'profile-stopped' }));
});

/** A CPU profile of a phase only (`--profile` covers the whole process), written where asked. */
let profiler: Session | null = null;
async function profileStart() {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.start');
}
async function profileStop(path: string) {
  if (!profiler) return;
  const { profile } = await profiler.post('Profiler.stop');
  writeFileSync(path, JSON.stringify(profile));
  profiler.disconnect();
  profiler = null;
}

/**
 * Where the process's memory is (for the benchmark's breakdown): after a full collection when the
 * process runs with --expose-gc, so heapUsed counts live objects only.
 */
function memory(collect: boolean) {
  const gc = collect ? (globalThis as { gc?: () => void }).gc : undefined;
  gc?.();
  gc?.();
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
  return { type: 'memory', collected: !!gc, ...process.memoryUsage(), spaces };
}
process.once('SIGTERM', stop);
process.once('disconnect', stop); // the orchestrator went away
