/**
 * One chaos run, the same for every failure type:
 *   1. users connect and churn (enqueue, chat, skip, end, cancel) until the system is warm;
 *   2. the fault starts and lasts `outageMs` with the load still running;
 *   3. the fault ends (the dependency is back): the users stop acting, and the recovery is measured
 *      (recovery.ts) while the system brings everyone to rest by itself;
 *   4. breakers are read from /metrics, the outbox is left to drain, and the audit accounting
 *      compares every committed transition with Postgres (accounting.ts).
 */
import { setTimeout as pause } from 'node:timers/promises';
import { account, type Transition } from './accounting';
import { readBreakers, verdict, type Dependency } from './breakers';
import type { Inspector, StateEvent } from './inspector';
import { Load } from './load';
import { Probe } from './probe';
import { measureRecovery, until } from './recovery';
import type { ScenarioOptions, ScenarioResult } from './types';

/** The system under test, however it was started (in-process or as OS processes). */
export interface System extends AsyncDisposable {
  /** Where users connect, round-robin. */
  urls: string[];
  /** Where the probe connects: a server that outlives the fault. */
  probeUrl: string;
  /** Servers whose /metrics count (the ones alive at the end). */
  metricsUrls(): string[];
  inspector: Inspector;
  /** LiveKit configured: the probe then also wants a LiveKit room. */
  livekit: boolean;
}

export interface FaultContext {
  load: Load;
  stats: Record<string, number>;
  notes: string[];
}

export interface Fault {
  failure: string;
  /** Breakers this fault should open (and that must close again). Others must stay closed. */
  trips: Dependency[];
  outageMs: number;
  inject(ctx: FaultContext): Promise<void>;
  /** Ends the fault; resolves once the dependency is back (the recovery clock starts then). */
  heal(ctx: FaultContext): Promise<void>;
  /**
   * Where the recovery clock starts: at the dependency's return (default), or at the fault itself
   * when nothing comes back (a killed server: its clients move to the survivor during heal).
   */
  clock?: 'return' | 'fault';
  /** A missing transition this fault's stated guarantee allows (by the transition's time). */
  excuse?: (t: Transition) => boolean;
  /** Runs after the accounting: scenario-specific figures and notes. */
  finish?(ctx: FaultContext): Promise<void>;
}

// Warm: at least this long and this many acknowledged calls (every background job has run by then).
const WARM_MIN_MS = 1500;
const WARM_ACKS = 40;
const WARM_MAX_MS = 5000;
const FINAL_DRAIN_MS = 20_000;

export async function runChaos(system: System, fault: Fault, opts: ScenarioOptions): Promise<ScenarioResult> {
  const log = opts.log ?? (() => undefined);
  const stats: Record<string, number> = {};
  const notes: string[] = [];
  const ctx: FaultContext = { load: await Load.connect(system.urls, opts.users ?? 12), stats, notes };
  const { load } = ctx;
  const probe = new Probe(system.probeUrl);
  try {
    const before = await readBreakers(system.metricsUrls());
    load.start();
    const warmFrom = Date.now();
    await until(() => load.acknowledged >= WARM_ACKS && Date.now() - warmFrom >= WARM_MIN_MS, WARM_MAX_MS);
    log(`${fault.failure}: warm (${load.acknowledged} acknowledged calls); fault for ${fault.outageMs} ms`);
    const tFault = Date.now();
    await fault.inject(ctx);
    // The outage itself: its length is the scenario's parameter, and the load keeps running through it.
    await pause(fault.outageMs);
    await fault.heal(ctx);
    const tBack = Date.now();
    const settled = load.settle();
    const users = () => [...load.users.map((u) => u.userId), ...probe.userIds];
    const rec = await measureRecovery({ since: fault.clock === 'fault' ? tFault : tBack, inspector: system.inspector, users, probe, livekit: system.livekit });
    await settled;
    log(`${fault.failure}: recovery ${rec.recoveryMs ?? 'none'} ms (answering ${rec.answeringMs}, resting ${rec.restingMs})`);

    const during = load.window(tFault, tBack);
    Object.assign(stats, {
      acknowledged: load.acknowledged,
      faultCalls: during.calls,
      faultFailed: during.failed,
      faultUnavailable: during.unavailable,
      faultMaxCallMs: during.maxMs,
      hangs: load.calls.filter((c) => c.code === 'HANG').length,
      answeringMs: rec.answeringMs ?? -1,
      restingMs: rec.restingMs ?? -1,
    });
    // Matches made while the fault lasted, as the users saw them (each match is announced to both).
    const matched = load.users
      .flatMap((u) => u.clients.flatMap((c) => c.events.map((e) => e.event)))
      .filter((e) => e.type === 'matched' && e.at >= tFault && e.at < tBack);
    stats.faultMatchesDirect = Math.round(matched.filter((e) => e.type === 'matched' && e.mode === 'direct').length / 2);
    stats.faultMatchesLivekit = Math.round(matched.filter((e) => e.type === 'matched' && e.mode === 'livekit').length / 2);
    for (const c of load.calls.filter((x) => x.code === 'HANG').slice(0, 5)) notes.push(`hang: ${c.op} started ${c.at - tFault} ms after the fault began`);
    for (const s of rec.stuck.slice(0, 5)) notes.push(`stuck ${s.uid.slice(0, 8)}: ${s.why}`);

    const after = await readBreakers(system.metricsUrls());
    const breakers: ScenarioResult['breakers'] = {};
    for (const d of ['redis', 'postgres', 'livekit'] as const) breakers[d] = verdict(before, after, d);

    if (!(await until(async () => (await system.inspector.backlog()) === 0, FINAL_DRAIN_MS)))
      notes.push(`outbox not drained ${FINAL_DRAIN_MS} ms after recovery`);
    const events: StateEvent[] = [];
    for (const u of [...load.users.flatMap((x) => x.clients), ...probe.clients]) {
      for (const { event } of u.events)
        if (event.type === 'state') events.push({ uid: u.userId, version: event.version, from: event.from, to: event.to, at: event.at });
    }
    for (const uid of users()) events.push(...(await system.inspector.history(uid)));
    const acc = account(events, load.acks, await system.inspector.transitions(), fault.excuse, new Set(users()));
    Object.assign(stats, {
      committed: acc.committed,
      excused: acc.excused,
      dupEventId: acc.dupEventId,
      dupUserVersion: acc.dupUserVersion,
      dupUserVersionSameEpoch: acc.dupUserVersionSameEpoch,
    });
    for (const m of acc.missingSample) notes.push(`missing: ${m}`);
    for (const d of acc.duplicateSample) notes.push(`same (user, version): ${d}`);
    await fault.finish?.(ctx);
    log(`${fault.failure}: accounted (${acc.committed} committed transitions)`);
    return {
      failure: fault.failure,
      recoveryMs: rec.recoveryMs,
      lost: acc.lost,
      duplicated: acc.dupEventId + acc.dupUserVersion,
      stuck: rec.stuck.length,
      breakers,
      stats,
      notes,
    };
  } finally {
    await load.close();
    await probe.close();
  }
}
