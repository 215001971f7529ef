/**
 * Refusals at the edge that anyone can cause (an unauthenticated or malformed call, a bound hit):
 * counted in `refused_requests_total{reason}` and logged as a rate-limited sample, never written
 * as one audit row each, so no outsider can drive writes into Redis or Postgres.
 */
import type { Logger } from '../infra/logger';
import type { Metrics } from '../infra/metrics';
import type { Clock } from '../shared/clock';
import { Sampler } from '../shared/sampler';

// One sample log line per reason this often: enough to see a flood and its shape in the logs.
const SAMPLE_EVERY_MS = 10_000;

export class Refusals {
  private readonly sampler: Sampler;

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
    clock: Clock,
  ) {
    this.sampler = new Sampler(SAMPLE_EVERY_MS, clock);
  }

  count(reason: string, detail: Record<string, unknown> = {}): void {
    this.metrics.refused.inc({ reason });
    const skipped = this.sampler.take(reason);
    if (skipped !== null) this.log.warn({ reason, skippedSinceLastSample: skipped, ...detail }, 'request refused at the edge (sampled)');
  }
}
