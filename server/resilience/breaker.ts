/**
 * Circuit breaker: a CircuitBreakerConfig (config.ts) on cockatiel's circuitBreaker.
 *
 * How its numbers map:
 *   failureThreshold, monitoringPeriod = 0  -> ConsecutiveBreaker(failureThreshold): opens after
 *       that many failures in a row (any success resets the count). For low-volume dependencies.
 *   failureThreshold, monitoringPeriod > 0  -> WindowBreaker (below): opens when, over the last
 *       monitoringPeriod, at least failureThreshold calls were made and more than failureRate of
 *       them failed (cockatiel's SamplingBreaker rule: a ratio, and failureThreshold as the
 *       minimum sample, so a handful of failures at 3 a.m. cannot open it).
 *   resetTimeout -> halfOpenAfter: after this long open, the next call is let through as a probe.
 *   halfOpenLimit -> HalfOpenGate (half-open-gate.ts): cockatiel runs exactly one probe and makes
 *       other callers wait for its verdict; the gate admits at most halfOpenLimit callers in
 *       that state (the probe included) and refuses the rest at once with BrokenCircuitError,
 *       so a recovering dependency is not met by a stampede.
 * Only errors `counts` accepts are failures (dependency failures, not "you are not in a match").
 *
 * cockatiel 3.2.1's SamplingBreaker advances its ring of windows by one slot per recorded call,
 * however long the pause before it, so its sample is not the last monitoringPeriod: after a quiet
 * spell the failures from before it still count (nine failures, a minute of silence, nine
 * successes and one failure opens it), and when calls come in bursts (ioredis fails its queued
 * commands all at once on every other reconnect attempt) the successes from before an outage stay
 * in the sample for several periods, so a total outage does not open it. WindowBreaker below is
 * the same rule on windows that expire by the clock.
 */
import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
  type IBackoff,
  type IBackoffFactory,
  type IBreaker,
  type IHalfOpenAfterBackoffContext,
} from 'cockatiel';
import type { CircuitBreakerConfig } from './config';
import type { BreakerState } from './model';

/** Slots per monitoring period: a call leaves the sample between 0.9 and 1 period after it was made. */
const SLOTS = 10;

interface Slot {
  /** Which slot of time this is (`floor(now / slotMs)`); a slot from an earlier lap is stale. */
  index: number;
  successes: number;
  failures: number;
}

/**
 * Opens when, over the last `periodMs`, at least `minimumCalls` calls were recorded and more
 * than `threshold` of them failed. Calls are counted in SLOTS slots of time; a slot older than
 * the period is dropped by the clock, not by later calls. A success while half-open starts a
 * fresh sample (as cockatiel's does).
 */
const emptySlots = (): Slot[] => Array.from({ length: SLOTS }, () => ({ index: -1, successes: 0, failures: 0 }));

export class WindowBreaker implements IBreaker {
  private slots: Slot[] = emptySlots();
  private readonly slotMs: number;

  constructor(private readonly opts: { threshold: number; periodMs: number; minimumCalls: number }) {
    this.slotMs = Math.max(1, Math.ceil(opts.periodMs / SLOTS));
  }

  get state(): unknown {
    return { slots: this.slots.map((s) => ({ ...s })) };
  }

  set state(value: unknown) {
    const saved = (value as { slots?: Slot[] } | null)?.slots;
    this.slots = saved?.length === SLOTS ? saved.map((s) => ({ ...s })) : emptySlots();
  }

  success(state: CircuitState): void {
    if (state === CircuitState.HalfOpen) this.slots = emptySlots();
    this.record(true);
  }

  failure(state: CircuitState): boolean {
    this.record(false);
    if (state !== CircuitState.Closed) return true;
    let successes = 0;
    let failures = 0;
    const oldest = this.now() - SLOTS + 1;
    for (const s of this.slots) {
      if (s.index < oldest) continue;
      successes += s.successes;
      failures += s.failures;
    }
    const total = successes + failures;
    return total >= this.opts.minimumCalls && failures > this.opts.threshold * total;
  }

  private record(success: boolean): void {
    const index = this.now();
    const at = index % SLOTS;
    let slot = this.slots[at]!;
    if (slot.index !== index) this.slots[at] = slot = { index, successes: 0, failures: 0 };
    if (success) slot.successes++;
    else slot.failures++;
  }

  /** The current slot's index; cockatiel times its breaker with Date.now(), so this does too. */
  private now(): number {
    return Math.floor(Date.now() / this.slotMs);
  }
}

/**
 * A breaker's open period (cockatiel's halfOpenAfter), and the one answer to "do calls fail fast
 * now?". Each time the breaker opens, cockatiel asks `next()` for the period and then reads its
 * `duration` on every call while open: `resetMs`, cut to 0 once the dependency is known to be back
 * (`backAt()` later than the opening), so the next call is the probe at once instead of every
 * caller waiting out a fixed period after the dependency has returned. `failsFast` reads the same
 * period, so the match mode and admin see exactly what the breaker does.
 */
export class OpenPeriod implements IBackoffFactory<IHalfOpenAfterBackoffContext> {
  private current: (IBackoff<IHalfOpenAfterBackoffContext> & { since: number }) | null = null;

  constructor(
    private readonly resetMs: number,
    private readonly backAt: () => number = () => 0,
  ) {}

  next(): IBackoff<IHalfOpenAfterBackoffContext> {
    const since = Date.now(); // cockatiel times the open period with Date.now() too
    const duration = () => (this.backAt() > since ? 0 : this.resetMs);
    this.current = {
      since,
      get duration() {
        return duration();
      },
      next: () => this.next(),
    };
    return this.current;
  }

  /** True while calls through a breaker in `state` using this period fail fast (open, or isolated). */
  failsFast(state: CircuitState): boolean {
    if (state === CircuitState.Isolated) return true;
    return state === CircuitState.Open && this.current !== null && Date.now() - this.current.since < this.current.duration;
  }
}

/** `period`: its open period (see OpenPeriod; by default the plain reset timeout). */
export function createBreaker(
  cfg: CircuitBreakerConfig,
  counts: (error: Error) => boolean,
  period: OpenPeriod = new OpenPeriod(cfg.resetTimeout),
): CircuitBreakerPolicy {
  const breaker: IBreaker =
    cfg.monitoringPeriod > 0
      ? new WindowBreaker({ threshold: cfg.failureRate, periodMs: cfg.monitoringPeriod, minimumCalls: cfg.failureThreshold })
      : new ConsecutiveBreaker(cfg.failureThreshold);
  return circuitBreaker(handleWhen(counts), { halfOpenAfter: period, breaker });
}

/**
 * While `breaker` is open, asks the dependency directly (`check`, outside every policy) every
 * `intervalMs` whether it answers again; the first answer calls `back()`. One check at a time;
 * it stops when the breaker leaves the open state. Only for a breaker opened by a failure to reach
 * the dependency (`reachability` says so): a dependency that answers but refuses (Redis OOM,
 * Postgres disk full, LiveKit refusing rooms) would pass the check while the calls still fail,
 * so then the reset timeout decides. Returns a function that stops it for good.
 */
export function probeWhileOpen(
  breaker: CircuitBreakerPolicy,
  check: () => Promise<unknown>,
  intervalMs: number,
  back: () => void,
  reachability: (error: unknown) => boolean,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let checking = false;
  let stopped = false;
  const tick = () => {
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped || breaker.state !== CircuitState.Open) return;
      checking = true;
      check().then(
        () => {
          checking = false;
          if (!stopped) back();
        },
        () => {
          checking = false;
          if (!stopped && breaker.state === CircuitState.Open) tick();
        },
      );
    }, intervalMs);
    timer.unref();
  };
  let unreachable = false;
  const onBreak = breaker.onBreak((reason) => {
    unreachable = 'error' in reason && reachability(reason.error);
  });
  const listener = breaker.onStateChange((s) => {
    if (s === CircuitState.Open && unreachable && timer === undefined && !checking && !stopped) tick();
  });
  return () => {
    stopped = true;
    clearTimeout(timer);
    listener.dispose();
    onBreak.dispose();
  };
}

const NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

export function breakerStateName(state: CircuitState): BreakerState {
  return NAMES[state];
}
