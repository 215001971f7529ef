/**
 * Where an idle client's memory goes: one server process (bench/match/server.ts, run with
 * --expose-gc) and `--clients` idle clients; the server's memory after a full collection before
 * and after they connect, per client. Optionally heap snapshots (diff them with
 * bench/match/heapdiff.ts) and a CPU profile of the idle period.
 *
 *   npx tsx bench/match/heap.ts --clients 2000 [--connected-only 1] [--snapshots DIR] [--profile FILE]
 *                               [--node-flags=none|start|"--flag ..."]
 *
 * `--connected-only 1`: connected and authenticated only (no match.events), to tell the connection's
 * share from the subscription's. RSS per client is `npm run bench`'s figure: here the forced
 * collections (and snapshots) move RSS by more than the clients do.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createTestDatabase, createTestRedis } from '../../tests/support/databases';
import { benchArgs } from '../lib/args';
import { printTable, progress } from '../lib/report';
import { round } from '../lib/stats';
import { startChild } from './children';
import { cpuMs } from './proc';

const args = benchArgs('heap', {
  clients: { default: 2000, help: 'idle clients (one server process: at most ~19,000)' },
  'connected-only': { default: 0, help: '1: connected and authenticated only, not subscribed to match.events' },
  snapshots: { default: '', help: 'directory: write heap snapshots s0 (no clients) and s1 (with clients) there' },
  profile: { default: '', help: 'file: CPU profile of the server over `--duration` seconds of idling' },
  'node-flags': { default: 'none', help: "server node flags: 'none', 'start' (those of npm start) or a list" },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nodeFlags(): string[] {
  const v = args['node-flags'];
  if (v === 'none') return [];
  if (v !== 'start') return v.split(/\s+/).filter(Boolean);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = (pkg.scripts.start ?? '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('--import')).filter((w) => w.startsWith('--'));
}

interface Memory {
  type: 'memory';
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, { size: number; used: number }>;
}

await using db = await createTestDatabase();
await using kv = await createTestRedis();
const secret = randomBytes(24).toString('hex');
const env = {
  NODE_ENV: 'production',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  REDIS_URL: kv.url,
  REDIS_PREFIX: kv.prefix,
  DATABASE_URL: db.url,
  SESSION_SECRET: secret,
};
const server = startChild('bench/match/server.ts', env, ['--expose-gc', ...nodeFlags()]);
try {
  const { url, pid } = await server.next<{ type: 'listening'; url: string; pid: number }>('listening', 60_000);
  await sleep(5000);
  const measure = async () => {
    server.send({ type: 'memory' });
    return server.next<Memory>('memory');
  };
  const snapshot = async (name: string) => {
    if (!args.snapshots) return;
    server.send({ type: 'snapshot', path: `${args.snapshots}/${name}.heapsnapshot` } as { type: string });
    await server.next('snapshot', 600_000);
  };
  const m0 = await measure();
  await snapshot('s0');
  const gen = startChild(
    'bench/match/idle.ts',
    { BENCH_CONFIG: JSON.stringify({ urls: [url], secret, clients: args.clients, subscribe: args['connected-only'] !== 1 }) },
    ['--max-old-space-size=6144'],
  );
  const ready = await gen.next<{ type: 'ready'; connected: number; failed: number }>('ready', 600_000);
  progress(`${ready.connected} idle clients connected, ${ready.failed} failed`);
  await sleep(5000);
  let idleCpu: number | null = null;
  if (args.profile) {
    server.send({ type: 'profile-start' });
    await server.next('profile-started');
  }
  const c0 = cpuMs(pid);
  await sleep(args.duration * 1000);
  idleCpu = (cpuMs(pid) - c0) / args.duration;
  if (args.profile) {
    server.send({ type: 'profile-stop', path: args.profile } as { type: string });
    await server.next('profile-stopped', 60_000);
  }
  const m1 = await measure();
  await snapshot('s1');
  const n = Math.max(1, ready.connected);
  const per = (a: number, b: number) => round((b - a) / n);
  printTable(`memory per ${args['connected-only'] === 1 ? 'connected-only' : 'subscribed'} idle client, bytes (after a full collection)`, [
    { measure: 'V8 heap committed (heapTotal)', value: per(m0.heapTotal, m1.heapTotal) },
    { measure: 'V8 heap live (heapUsed)', value: per(m0.heapUsed, m1.heapUsed) },
    { measure: 'external (incl. ArrayBuffers)', value: per(m0.external, m1.external) },
    {
      measure: 'young generation, MiB before -> after',
      value: `${round((m0.spaces.new_space?.size ?? 0) / 2 ** 20)} -> ${round((m1.spaces.new_space?.size ?? 0) / 2 ** 20)}`,
    },
    { measure: `server CPU while idle, ms/s (${args.duration} s${args.profile ? ', profiling' : ''})`, value: round(idleCpu) },
  ]);
  await gen.stop();
} finally {
  await server.stop();
}
