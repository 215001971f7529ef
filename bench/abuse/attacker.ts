/**
 * One attacker process (one per attack, apart from the honest generator, so an attacker's CPU and
 * sockets are its own). Config: AttackerConfig as JSON in BENCH_CONFIG. Messages: 'ready', then
 * it waits for 'go'; it attacks until 'stop', then sends
 * `{ type: 'result', attack, seconds, counts, detail }` and exits.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ATTACK_NAMES, type Attack, type AttackerConfig, type AttackId } from './context';
import { control, invalidCalls, malformedHttp, sseAbort, unsignedWebhooks } from './http-attacks';
import { Tally } from './pace';
import { bigSignal, poolSpray } from './session-attacks';
import { idleSockets, subscriptionFlood } from './socket-attacks';

export interface AttackResult {
  type: 'result';
  attack: AttackId;
  seconds: number;
  counts: Record<string, number>;
  detail: Record<string, number>;
  /** This process's event-loop delay: a large one means the attacker, not the server, was the bottleneck. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const ATTACKS: Record<AttackId, Attack> = {
  a: malformedHttp,
  b: poolSpray,
  c: sseAbort,
  d: bigSignal,
  e: subscriptionFlood,
  f: idleSockets,
  g: invalidCalls,
  h: unsignedWebhooks,
  x: control,
};

const cfg = JSON.parse(process.env.BENCH_CONFIG ?? '{}') as AttackerConfig;
process.once('disconnect', () => process.exit(1)); // the orchestrator went away
const stop = new AbortController();
const tally = new Tally();
// A 'stop' before 'go' (the run was cut short) ends it at once with empty counts.
let stoppedAt: number | null = null;
const go = new Promise<void>((resolve) =>
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stop') {
      stoppedAt ??= performance.now();
      stop.abort();
    }
    if (m.type === 'go' || m.type === 'stop') resolve();
  }),
);
const failed = (e: unknown) => tally.add('attackerFailed', `${ATTACK_NAMES[cfg.attack]}: ${e instanceof Error ? e.message : String(e)}`);
const run = await Promise.resolve()
  .then(() => ATTACKS[cfg.attack]({ ...cfg, signal: stop.signal, tally }))
  .catch((e: unknown) => {
    failed(e);
    return async () => {};
  });
process.send?.({ type: 'ready' });
await go;

const t0 = performance.now();
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
await run().catch(failed);
loop.disable();
const result: AttackResult = {
  ...{ type: 'result', attack: cfg.attack, seconds: Math.max(0, (stoppedAt ?? performance.now()) - t0) / 1000, counts: tally.counts, detail: tally.detail },
  ...{ loopDelayP99Ms: loop.percentile(99) / 1e6, loopDelayMaxMs: loop.max / 1e6 },
};
process.send?.(result, () => process.exit(0));
