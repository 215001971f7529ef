/**
 * npm run chaos — every chaos scenario (tests/chaos/scenarios) at full length, one after another:
 * Redis killed (back empty / back with AOF) and frozen, Postgres stopped and slow, LiveKit
 * answering 500s / timing out / dropping connections, a server process killed. Each runs under
 * load from real tRPC WebSocket clients; see tests/chaos/lib/run.ts for what is measured.
 *
 * Usage: npm run chaos -- [--duration 30] [--users 24] [--only redis-pause,postgres-down] [--settings production]
 *   --duration  the Postgres outage in seconds (the longest); every other outage is scaled by
 *               duration/30 from its full length (Redis 10 s, LiveKit 20 s). Full = 30. Default 10.
 *   --settings  `production` (default): the servers run on the shipped defaults, only the load's
 *               own limits and the accounting's history size differ (tests/chaos/lib/env.ts);
 *               `shortened`: the test suite's shortened timers.
 * Prints a table (failure type -> recovery time, events lost, events duplicated, users stuck,
 * breakers) and ends with one JSON line: {"lost":..,"duplicated":..,"stuck":..,"maxRecoveryMs":..,"crashes":..}
 * (crashes: uncaught exceptions in the servers, which run in this process).
 * Progress goes to stderr. Exit code 1 when a scenario could not run.
 */
import { parseArgs } from 'node:util';
import type { ScenarioResult } from '../tests/chaos/lib/types';

const FULL_POSTGRES_OUTAGE_S = 30;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    users: { type: 'string', default: '24' },
    only: { type: 'string' },
    settings: { type: 'string', default: 'production' },
  },
});
if (values.settings !== 'production' && values.settings !== 'shortened') throw new Error('--settings is production or shortened');
// Read by tests/chaos/lib/env.ts as the scenarios load (hence the dynamic import).
process.env.CHAOS_SETTINGS = values.settings;
const { SCENARIOS } = await import('../tests/chaos/scenarios');
const durationScale = Number(values.duration) / FULL_POSTGRES_OUTAGE_S;
const users = Number(values.users);
const only = values.only?.split(',').map((s) => s.trim());
const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);

function table(rows: ScenarioResult[]): string {
  const head = ['failure type', 'recovery ms', 'lost', 'duplicated', 'stuck', 'breakers'];
  const body = rows.map((r) => [
    r.failure,
    r.recoveryMs === null ? 'none' : String(r.recoveryMs),
    String(r.lost),
    String(r.duplicated),
    String(r.stuck),
    Object.entries(r.breakers)
      .filter(([, v]) => v !== 'stayed closed')
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ') || 'all stayed closed',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i >= 1 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i >= 1 && i <= 4 ? '-'.repeat(w - 1) + ':' : '-'.repeat(w))).join(' | ')} |`;
  return [line(head), rule, ...body.map(line)].join('\n');
}

// The servers run in this process: an uncaught exception here is a server crash in production.
// It is counted against the scenario running, and the run goes on so the table is complete.
let crashes: string[] = [];
process.on('uncaughtException', (e) => {
  crashes.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  log(`UNCAUGHT (a server process would have crashed): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
});

const results: ScenarioResult[] = [];
let failed = 0;
let crashed = 0;
for (const s of SCENARIOS) {
  if (only && !only.includes(s.name)) continue;
  log(`${s.name}: starting (scale ${durationScale.toFixed(2)}, ${users} users)`);
  crashes = [];
  try {
    const r = await s.run({ durationScale, users, log });
    if (crashes.length) {
      crashed += crashes.length;
      r.notes.unshift(...crashes.map((c) => `SERVER CRASH (uncaught): ${c}`));
      r.failure += ' [server crashed]';
    }
    results.push(r);
    log(`${s.name}: ${JSON.stringify({ ...r, notes: undefined })}`);
    for (const n of r.notes) log(`${s.name}:   ${n}`);
  } catch (e) {
    failed++;
    log(`${s.name}: could not run: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}

process.stdout.write(`settings: ${values.settings}\n${table(results)}\n\n`);
for (const r of results)
  process.stdout.write(
    `${r.failure}: ${Object.entries(r.stats)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}\n`,
  );
const sum = (k: 'lost' | 'duplicated' | 'stuck') => results.reduce((n, r) => n + r[k], 0);
const recoveries = results.map((r) => r.recoveryMs);
const maxRecoveryMs = recoveries.some((x) => x === null) ? null : Math.max(0, ...(recoveries as number[]));
process.stdout.write(`\n${JSON.stringify({ lost: sum('lost'), duplicated: sum('duplicated'), stuck: sum('stuck'), maxRecoveryMs, crashes: crashed })}\n`);
process.exit(failed > 0 ? 1 : 0);
