/**
 * Measuring a recovery. From the moment the dependency is back, two loops run side by side:
 *  - the probe retries its full round trip until one succeeds ("the app answers again");
 *  - a watcher reads every user's state and the outbox backlog every POLL_MS.
 * Recovered = the first reading at which the probe has succeeded, every user is at rest and the
 * outbox is empty. Users not at rest at the first reading RESTING_BOUND_MS after the return are
 * the stuck ones. Watching stops at the cap, so a late recovery is still measured.
 */
import { setTimeout as pause } from 'node:timers/promises';
import { OBSERVE_CAP_MS, RESTING_BOUND_MS } from './env';
import type { Inspector, Resting } from './inspector';
import type { Probe } from './probe';

const POLL_MS = 50;

export interface Recovery {
  recoveryMs: number | null;
  /** When the probe first succeeded, from the return. */
  answeringMs: number | null;
  /** When every user was first seen at rest, from the return. */
  restingMs: number | null;
  stuck: Resting['stuck'];
}

export async function measureRecovery(o: {
  since: number;
  inspector: Inspector;
  users: () => string[];
  probe: Probe;
  livekit: boolean;
  capMs?: number;
}): Promise<Recovery> {
  const cap = o.since + (o.capMs ?? OBSERVE_CAP_MS);
  let answeredAt: number | null = null;
  let done = false;
  const prober = (async () => {
    while (!done && Date.now() < cap) {
      if (await o.probe.attempt({ livekit: o.livekit })) {
        answeredAt = Date.now();
        return;
      }
      await pause(POLL_MS);
    }
  })();
  let restingAt: number | null = null;
  let stuck: Resting['stuck'] | null = null;
  let last: Resting = { ok: false, stuck: [] };
  try {
    while (Date.now() < cap) {
      const t = Date.now();
      last = await o.inspector.resting(o.users()).catch((e: unknown) => ({ ok: false, stuck: [{ uid: '*', why: `Redis unreadable: ${String(e)}` }] }));
      const backlog = await o.inspector.backlog().catch(() => Infinity);
      if (last.ok) restingAt ??= t;
      if (stuck === null && t - o.since >= RESTING_BOUND_MS) stuck = last.stuck;
      if (answeredAt !== null && last.ok && backlog === 0) {
        return {
          recoveryMs: Math.max(t, answeredAt) - o.since,
          answeringMs: answeredAt - o.since,
          restingMs: restingAt === null ? null : restingAt - o.since,
          stuck: stuck ?? [],
        };
      }
      await pause(POLL_MS);
    }
    return {
      recoveryMs: null,
      answeringMs: answeredAt === null ? null : answeredAt - o.since,
      restingMs: restingAt === null ? null : restingAt - o.since,
      stuck: stuck ?? last.stuck,
    };
  } finally {
    done = true;
    await prober;
  }
}

/** Polls `cond` until it holds or `ms` passed; returns whether it held. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, every = POLL_MS): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await Promise.resolve(cond()).catch(() => false)) return true;
    await pause(every);
  }
  return false;
}
