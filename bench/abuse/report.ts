/**
 * The abuse benchmark's verdicts and report: honest churn with and without the attacks, what
 * the attacks left behind in the server and in Redis, and how each attack was answered.
 *
 * Targets: under attack, honest enqueue->matched p99 at most 2x the baseline's and honest
 * matches/s at least 90% of it; after the cool-down, server RSS less than 100 MB and Redis
 * used_memory less than 50 MB above where the baseline left them; and no crash.
 */
import { printTable, type Cell } from '../lib/report';
import { round } from '../lib/stats';
import type { ChurnResult } from '../match/churn';
import type { AttackResult } from './attacker';
import { ATTACK_NAMES, type AttackId } from './context';
import { PROBE_POINTS, type Probe, type ProbePoint } from './probe';

export const TARGETS = { p99Ratio: 2, throughputRatio: 0.9, rssGrowthMb: 100, redisMemGrowthMb: 50 };

export interface HonestWindow {
  result: ChurnResult;
  /** Server CPU over the measured window, % of one core; and the attackers' together. */
  serverCpuPct: number;
  attackerCpuPct: number;
  /** The server's event-loop lag over the window, from its /metrics (null: not scraped). */
  serverLag: { p99Ms: number; maxMs: number } | null;
  /** Its refusals and uncaught errors in the window, by reason (./server-metrics.ts); null: /metrics did not answer. */
  serverCounters: Record<string, number> | null;
}

export interface RunOutcome {
  baseline: HonestWindow | null;
  attack: HonestWindow | null;
  probes: Partial<Record<ProbePoint, Probe>>;
  attacks: Partial<Record<AttackId, AttackResult | { skipped: string } | { lost: string }>>;
  /** The phase in which the server process exited, if it did. */
  crashedIn: string | null;
}

const OUTCOMES = ['sent', 'ok', '4xx', '5xx', 'connError', 'timeout', 'shed'];

const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? round(a / b) : null);
const growth = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : round(b - a));

export function figures(run: RunOutcome, rate: number, attackRate: number) {
  const per = (w: HonestWindow | null) =>
    w ? { mps: w.result.matches / w.result.windowSec, p50: w.result.latency.p50Ms, p99: w.result.latency.p99Ms } : undefined;
  const [b, a] = [per(run.baseline), per(run.attack)];
  const [before, after] = [run.probes.afterBaseline, run.probes.afterCooldown];
  const f = {
    baselineMatchesPerSec: b ? round(b.mps) : null,
    attackMatchesPerSec: a ? round(a.mps) : null,
    throughputRatio: ratio(a?.mps, b?.mps),
    baselineP50Ms: b ? round(b.p50) : null,
    attackP50Ms: a ? round(a.p50) : null,
    baselineP99Ms: b ? round(b.p99) : null,
    attackP99Ms: a ? round(a.p99) : null,
    p99Ratio: ratio(a?.p99, b?.p99),
    rssGrowthMb: growth(before?.rssMb, after?.rssMb),
    // For comparison, what the honest baseline alone added (a new population grows the heap too).
    rssGrowthBaselineMb: growth(run.probes.start?.rssMb, before?.rssMb),
    redisMemGrowthMb: growth(before?.redisMemMb, after?.redisMemMb),
    redisKeysGrowth: growth(before?.keys, after?.keys),
    // What the honest baseline itself left (each honest user keeps a few keys): the attack
    // window's honest population leaves about as many again.
    redisKeysGrowthBaseline: growth(run.probes.start?.keys, before?.keys),
    pubsubChannelsGrowth: growth(before?.channels, after?.channels),
    listenOverflowsInAttack: growth(before?.listenOverflows, run.probes.afterAttack?.listenOverflows),
    honestErrors: (run.baseline ? honestErrors(run.baseline.result) : 0) + (run.attack ? honestErrors(run.attack.result) : 0),
    baselineServerLagP99Ms: run.baseline?.serverLag ? round(run.baseline.serverLag.p99Ms) : null,
    attackServerLagP99Ms: run.attack?.serverLag ? round(run.attack.serverLag.p99Ms) : null,
    /** What the server counted in the attack window: refusals by reason, errors nothing caught by kind. */
    serverCounters: run.attack?.serverCounters ?? null,
    crashed: run.crashedIn !== null,
    rate,
    attackRate,
    attacks: Object.fromEntries(Object.entries(run.attacks).map(([id, r]) => [`${id}-${ATTACK_NAMES[id as AttackId]}`, r && 'counts' in r ? r.counts : r])),
  };
  const verdicts = {
    p99: f.p99Ratio !== null && f.p99Ratio <= TARGETS.p99Ratio,
    throughput: f.throughputRatio !== null && f.throughputRatio >= TARGETS.throughputRatio,
    rss: f.rssGrowthMb !== null && f.rssGrowthMb < TARGETS.rssGrowthMb,
    redisMem: f.redisMemGrowthMb !== null && f.redisMemGrowthMb < TARGETS.redisMemGrowthMb,
    noCrash: !f.crashed,
  };
  return { ...f, verdicts, met: Object.values(verdicts).every(Boolean) };
}

function honestErrors(r: ChurnResult): number {
  return r.errors + r.inconsistent + r.connectFailed;
}

export function printReport(run: RunOutcome, f: ReturnType<typeof figures>): void {
  const w = (get: (w: HonestWindow) => Cell) => ({ baseline: run.baseline ? get(run.baseline) : 'n/a', attack: run.attack ? get(run.attack) : 'n/a' });
  printTable('honest churn: baseline window vs the same window under attack', [
    { measure: 'matches/s', ...w((x) => round(x.result.matches / x.result.windowSec)), ratio: f.throughputRatio ?? 'n/a' },
    {
      measure: 'enqueue->matched p50 ms',
      ...w((x) => round(x.result.latency.p50Ms)),
      ratio: ratio(f.attackP50Ms ?? undefined, f.baselineP50Ms ?? undefined) ?? 'n/a',
    },
    { measure: 'enqueue->matched p99 ms', ...w((x) => round(x.result.latency.p99Ms)), ratio: f.p99Ratio ?? 'n/a' },
    { measure: 'enqueue->matched max ms', ...w((x) => round(x.result.latency.maxMs)) },
    { measure: 'enqueue round trip p99 ms', ...w((x) => round(x.result.enqueueRtt.p99Ms)) },
    { measure: 'errors / inconsistent / connect failed', ...w((x) => `${x.result.errors} / ${x.result.inconsistent} / ${x.result.connectFailed}`) },
    { measure: 'unmatched at end / starved arrivals', ...w((x) => `${x.result.unmatched} / ${x.result.starved}`) },
    { measure: 'last honest error', ...w((x) => x.result.lastError.slice(0, 60) || '-') },
    { measure: 'server CPU, % of one core', ...w((x) => round(x.serverCpuPct)) },
    { measure: 'attackers CPU, % of one core (same machine)', ...w((x) => round(x.attackerCpuPct)) },
    {
      measure: 'server event-loop lag p99 / max ms (warm-up and window)',
      ...w((x) => (x.serverLag ? `${round(x.serverLag.p99Ms)} / ${round(x.serverLag.maxMs)}` : 'n/a')),
    },
  ]);
  const counters = [...new Set([...Object.keys(run.baseline?.serverCounters ?? {}), ...Object.keys(run.attack?.serverCounters ?? {})])].sort();
  const count = (k: string) => w((x) => (x.serverCounters ? (x.serverCounters[k] ?? 0) : '/metrics did not answer'));
  printTable(
    'refusals and uncaught errors the server counted in each window (its /metrics)',
    counters.length
      ? counters.map((k) => ({ counter: k, ...count(k) }))
      : [{ counter: '(none)', ...w((x) => (x.serverCounters ? 0 : '/metrics did not answer')) }],
  );
  printTable(
    'server and Redis (growth = after cool-down minus after baseline)',
    PROBE_POINTS.map((p) => {
      const v = run.probes[p];
      return {
        point: p,
        'server RSS MB': v ? (v.rssMb ?? 'gone') : 'n/a',
        'Redis used_memory MB': v?.redisMemMb ?? 'n/a',
        'keys under prefix': v?.keys ?? 'n/a',
        'pub/sub channels': v?.channels ?? 'n/a',
        'channel subscribers': v?.subscribers ?? 'n/a',
        'TCP listen overflows (machine)': v?.listenOverflows ?? 'n/a',
      };
    }),
  );
  const rows: Array<Record<string, Cell>> = [];
  const detail: Array<Record<string, Cell>> = [];
  for (const [id, r] of Object.entries(run.attacks).sort(([a], [b]) => a.localeCompare(b))) {
    const name = `${id} ${ATTACK_NAMES[id as AttackId]}`;
    const counted = r && 'counts' in r ? r : null;
    // The same columns in every row (printTable takes them from the rows), a skipped attack's blank.
    const other = counted ? Object.entries(counted.counts).filter(([k]) => !OUTCOMES.includes(k)) : [];
    rows.push({
      attack: name,
      'sent/s': counted ? round((counted.counts.sent ?? 0) / Math.max(0.001, counted.seconds)) : '',
      ...Object.fromEntries(OUTCOMES.map((k) => [k, counted ? (counted.counts[k] ?? 0) : ''])),
      'attacker loop delay p99/max ms': counted ? `${round(counted.loopDelayP99Ms)} / ${round(counted.loopDelayMaxMs)}` : '',
      other: counted ? other.map(([k, n]) => `${k} ${n}`).join(', ') || '-' : r ? Object.values(r).join('') : 'n/a',
    });
    for (const [k, n] of Object.entries(counted?.detail ?? {}).sort()) detail.push({ attack: name, 'request kind: outcome': k, count: n });
  }
  printTable('attacks (sent = operations offered; shed = not sent, the attacker had too many in flight)', rows);
  if (detail.length) printTable('attacks by request kind', detail);
  const yes = (b: boolean) => (b ? 'met' : 'NOT MET');
  printTable('verdicts', [
    { target: `honest p99 under attack <= ${TARGETS.p99Ratio}x baseline`, value: f.p99Ratio ?? 'n/a', verdict: yes(f.verdicts.p99) },
    {
      target: `honest matches/s under attack >= ${TARGETS.throughputRatio * 100}% of baseline`,
      value: f.throughputRatio ?? 'n/a',
      verdict: yes(f.verdicts.throughput),
    },
    { target: `server RSS growth after cool-down < ${TARGETS.rssGrowthMb} MB`, value: f.rssGrowthMb ?? 'n/a', verdict: yes(f.verdicts.rss) },
    {
      target: `Redis used_memory growth after cool-down < ${TARGETS.redisMemGrowthMb} MB`,
      value: f.redisMemGrowthMb ?? 'n/a',
      verdict: yes(f.verdicts.redisMem),
    },
    { target: 'the server process survived', value: run.crashedIn ? `exited during ${run.crashedIn}` : 'yes', verdict: yes(f.verdicts.noCrash) },
  ]);
}
