/**
 * `npm run bench -- --flow full`: the whole-call phase of the matchmaking benchmark. Runs
 * bench/match/full.ts (the full-call driver, closed loop) against the servers, reads the servers'
 * CPU (/proc) and Redis's (INFO cpu, commandstats) at both ends of the measured window, prints
 * the tables and returns the figures of the final JSON line.
 *
 * Saturation: the population is closed-loop (no think time: a person whose call ended enqueues
 * again at once), so calls/s is what the machine completes, not an offered rate; a population
 * well above what is in flight keeps the queue non-empty. The tables show whose CPU ran out.
 */
import type { Redis } from 'ioredis';
import { diffCounters as diffRedis, serverCounters } from '../lib/redis';
import { printTable, progress } from '../lib/report';
import { round } from '../lib/stats';
import { startChild } from './children';
import type { FullConfig, FullResult } from './full';
import { cpuMs, sum } from './proc';

export interface FullPhaseArgs {
  urls: string[];
  pids: number[];
  secret: string;
  redis: Redis;
  redisKind: string;
  /** The servers' Redis and key root, for the generator's ghost check. */
  redisUrl: string;
  keyRoot: string;
  people: number;
  skip: number;
  absent: number;
  graceMs: number;
  warmupSec: number;
  durationSec: number;
  generatorArgs: string[];
}

const perCall = (n: number, calls: number) => round(n / Math.max(1, calls));

export async function fullPhase(a: FullPhaseArgs): Promise<Record<string, unknown>> {
  const cfg: FullConfig = {
    urls: a.urls,
    secret: a.secret,
    people: a.people,
    skip: a.skip,
    absent: a.absent,
    graceMs: a.graceMs,
    warmupSec: a.warmupSec,
    durationSec: a.durationSec,
    redisUrl: a.redisUrl,
    keyRoot: a.keyRoot,
  };
  const gen = startChild('bench/match/full.ts', { BENCH_CONFIG: JSON.stringify(cfg) }, ['--max-old-space-size=4096', ...a.generatorArgs]);
  const ready = await gen.next<{ type: 'ready'; connected: number; failed: number }>('ready', 300_000);
  progress(`full calls: ${ready.connected} people connected; ${a.warmupSec} s warm-up, then ${a.durationSec} s measured (closed loop, absent ${a.absent})`);
  gen.send({ type: 'go' });
  await gen.next('window-start', 120_000);
  const genPid = gen.proc.pid!;
  const [cpu0, g0, r0] = [sum(a.pids, cpuMs), cpuMs(genPid), await serverCounters(a.redis)];
  await gen.next('window-end', (a.durationSec + 60) * 1000);
  const [cpu1, g1, r1] = [sum(a.pids, cpuMs), cpuMs(genPid), await serverCounters(a.redis)];
  const r = await gen.next<FullResult>('result', 60_000);
  await gen.exited;
  const c = r.counters;
  const redis = diffRedis(r0, r1);
  const serverCpuMs = cpu1 - cpu0;
  const matches = c.matchedEvents / 2;
  const errors = c.errors + r.connectFailed;
  const figures = {
    flow: 'full',
    callsPerSec: round(c.calls / r.windowSec),
    matchesPerSec: round(matches / r.windowSec),
    p50Ms: round(r.enqueueToMatched.p50Ms),
    p99Ms: round(r.enqueueToMatched.p99Ms),
    maxMs: round(r.enqueueToMatched.maxMs),
    matchedToInCallP50Ms: round(r.matchedToInCall.p50Ms),
    matchedToInCallP99Ms: round(r.matchedToInCall.p99Ms),
    serverCpuMsPerCall: perCall(serverCpuMs, c.calls),
    redisCpuMsPerCall: perCall(redis.cpuSec * 1000, c.calls),
    serverCpuMsPerMatch: perCall(serverCpuMs, matches),
    redisCpuMsPerMatch: perCall(redis.cpuSec * 1000, matches),
    messagesPerCall: perCall(sumOf(c.sent) + sumOf(c.received), c.calls),
    framesPerCall: perCall(c.frames.sent + c.frames.received, c.calls),
    ghostMatches: c.ghostMatches,
    closesInFlight: c.closesInFlight,
    ghostMatchesWithin10Ms: c.ghostMatchesWithin10Ms,
    ghostMatchesWithin100Ms: c.ghostMatchesWithin100Ms,
    stalled: r.stalledAtEnd,
    errors,
    absenceRaces: c.absenceRaces,
    people: a.people,
    absent: a.absent,
  };
  printTable('matchmaking: full calls (closed loop)', [
    { measure: 'people (closed loop)', value: `${ready.connected} connected, ${ready.failed} failed` },
    { measure: 'full calls/s (IN_CALL reached, then skip/end)', value: figures.callsPerSec },
    { measure: 'matches/s (matched events / 2)', value: figures.matchesPerSec },
    { measure: 'enqueue->matched p50 / p99 / max ms', value: `${figures.p50Ms} / ${figures.p99Ms} / ${figures.maxMs}` },
    { measure: 're-queued->matched p50 / p99 ms', value: `${round(r.requeueToMatched.p50Ms)} / ${round(r.requeueToMatched.p99Ms)}` },
    {
      measure: 'matched->IN_CALL p50 / p99 / max ms (undisturbed)',
      value: `${figures.matchedToInCallP50Ms} / ${figures.matchedToInCallP99Ms} / ${round(r.matchedToInCall.maxMs)}`,
    },
    { measure: 'server CPU ms per call', value: figures.serverCpuMsPerCall },
    { measure: 'server CPU, % of one core', value: round(serverCpuMs / 10 / r.windowSec) },
    { measure: `Redis CPU ms per call (${a.redisKind} Redis)`, value: figures.redisCpuMsPerCall },
    { measure: 'Redis CPU, % of one core', value: round((redis.cpuSec * 100) / r.windowSec) },
    { measure: 'load generator CPU ms per call', value: perCall(g1 - g0, c.calls) },
    { measure: 'load generator CPU, % of one core', value: round((g1 - g0) / 10 / r.windowSec) },
    { measure: 'generator loop delay p99 / max ms', value: `${round(r.loopDelayP99Ms)} / ${round(r.loopDelayMaxMs)}` },
    { measure: 'skips / ends', value: `${c.skips} / ${c.ends}` },
    {
      measure: 'ghost matches (of them: socket closed < 10 / < 100 ms before)',
      value: `${c.ghostMatches} (${c.ghostMatchesWithin10Ms} / ${c.ghostMatchesWithin100Ms})`,
    },
    {
      measure: 'matches made before the server read a close (not ghosts)',
      value: c.closesInFlight,
    },
    {
      measure: 'drops waiting / in call; came back / gone; absent at end',
      value: `${c.dropsWaiting} / ${c.dropsInCall}; ${c.reconnects} / ${c.gone}; ${r.absentAtEnd}`,
    },
    { measure: 'matches abandoned before IN_CALL', value: c.abandoned },
    { measure: 'people stalled at the end (no event for 20 s)', value: r.stalledAtEnd },
    { measure: 'errors / absence races / cut by a drop', value: `${errors} / ${c.absenceRaces} / ${c.aborted}${c.lastError ? ` (${c.lastError})` : ''}` },
    { measure: 'WebSocket frames per call sent / received', value: `${perCall(c.frames.sent, c.calls)} / ${perCall(c.frames.received, c.calls)}` },
  ]);
  const paths = Object.keys(c.sent).sort();
  const events = Object.keys(c.received)
    .filter((k) => k.startsWith('event '))
    .sort();
  printTable('tRPC messages per full call (generator side): calls and their replies, then events', [
    ...paths.map((p) => ({ message: p, 'sent/call': perCall(c.sent[p]!, c.calls), 'received/call': perCall(c.received[`reply ${p}`] ?? 0, c.calls) })),
    ...events.map((e) => ({ message: e, 'sent/call': 0, 'received/call': perCall(c.received[e]!, c.calls) })),
  ]);
  const top = Object.entries(redis.commands)
    .sort((x, y) => y[1].usec - x[1].usec)
    .slice(0, 6)
    .map(([name, v]) => ({ command: name, 'calls/call': perCall(v.calls, c.calls), 'usec/call': round(v.usec / v.calls) }));
  printTable(`Redis commands in the window (${a.redisKind === 'shared' ? 'shared Redis: includes other users' : 'private Redis'})`, top);
  return figures;
}

function sumOf(m: Record<string, number>): number {
  return Object.values(m).reduce((x, y) => x + y, 0);
}
