/**
 * ConnectionTracker: the connection level of the seed's three-level recovery. For each client
 * whose connection failed it hands out the next reconnect delay (the reconnect RetryPolicy:
 * exponential with jitter by default) until the attempts run out, and remembers when the
 * trouble began so a restored connection is recorded as a recovery with its duration.
 * Bounded: entries older than the whole reconnect schedule are dropped when the map grows.
 */
import type { Clock } from '../shared/clock';
import { delayFor, type Random } from './backoff';
import type { RetryPolicyConfig } from './config';

/** The seed's RecoveryStrategy for a failed connection. */
export type ReconnectPlan =
  | { action: 'reconnect'; attempt: number; delayMs: number }
  /** The schedule is used up: stop trying; the presence grace ends the session's match. */
  | { action: 'give_up'; attempt: number };

// Past this many tracked clients, stale entries are swept on the next failure.
const SWEEP_AT = 10_000;

export class ConnectionTracker {
  private readonly failing = new Map<string, { attempts: number; since: number; lastAt: number }>();

  constructor(
    private readonly policy: RetryPolicyConfig,
    private readonly clock: Clock,
    private readonly random: Random = Math.random,
  ) {}

  /** Another failure for this client; `first` is true when this starts a new incident. */
  fail(clientId: string): { plan: ReconnectPlan; first: boolean; since: number } {
    const now = this.clock.now();
    if (this.failing.size >= SWEEP_AT) this.sweep(now);
    const entry = this.failing.get(clientId) ?? { attempts: 0, since: now, lastAt: now };
    const first = entry.attempts === 0;
    entry.attempts++;
    entry.lastAt = now;
    if (entry.attempts > this.policy.maxAttempts) {
      this.failing.delete(clientId);
      return { plan: { action: 'give_up', attempt: entry.attempts }, first, since: entry.since };
    }
    this.failing.set(clientId, entry);
    return { plan: { action: 'reconnect', attempt: entry.attempts, delayMs: delayFor(this.policy, entry.attempts, this.random) }, first, since: entry.since };
  }

  /** The client is back: when its trouble began, or null if none was tracked. */
  restore(clientId: string): number | null {
    const entry = this.failing.get(clientId);
    this.failing.delete(clientId);
    return entry ? entry.since : null;
  }

  get size(): number {
    return this.failing.size;
  }

  private sweep(now: number): void {
    const horizon = this.policy.maxDelay * (this.policy.maxAttempts + 1);
    for (const [id, e] of this.failing) if (now - e.lastAt > horizon) this.failing.delete(id);
  }
}
