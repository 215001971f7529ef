/**
 * HalfOpenGate: CircuitBreakerConfig's `halfOpenLimit` for a cockatiel breaker. While the breaker is
 * half-open, cockatiel lets one probe call through and parks every other caller until the probe
 * settles, however many there are. The gate counts the callers that entered while the breaker
 * was not closed (the probe among them) and refuses any beyond `limit` with BrokenCircuitError,
 * as if the breaker were still open. Closed: a pass-through.
 */
import { BrokenCircuitError, CircuitState, type CircuitBreakerPolicy, type IDefaultPolicyContext, type IPolicy } from 'cockatiel';

export class HalfOpenGate implements IPolicy {
  declare readonly _altReturn: never;
  readonly onSuccess: CircuitBreakerPolicy['onSuccess'];
  readonly onFailure: CircuitBreakerPolicy['onFailure'];
  private admitted = 0;

  constructor(
    readonly breaker: CircuitBreakerPolicy,
    private readonly limit: number,
  ) {
    this.onSuccess = breaker.onSuccess;
    this.onFailure = breaker.onFailure;
  }

  async execute<T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal): Promise<T> {
    const state = this.breaker.state;
    if (state === CircuitState.Closed) return this.breaker.execute(fn, signal);
    if (state === CircuitState.HalfOpen && this.admitted >= this.limit) {
      throw new BrokenCircuitError(`Circuit is half-open and ${this.admitted} callers already wait on the probe`);
    }
    this.admitted++;
    try {
      return await this.breaker.execute(fn, signal);
    } finally {
      this.admitted--;
    }
  }
}
