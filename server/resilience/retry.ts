/**
 * Retry: a RetryPolicyConfig as a cockatiel retry. `maxAttempts` counts retries, so 3 means
 * up to four calls. Only errors `shouldRetry` accepts are retried (transient dependency
 * failures); anything else, including "breaker open" and "bulkhead full", fails at once.
 */
import { handleWhen, retry, type RetryPolicy } from 'cockatiel';
import { backoffFor, type Random } from './backoff';
import type { RetryPolicyConfig } from './config';

export function createRetry(cfg: RetryPolicyConfig, shouldRetry: (error: Error) => boolean, random?: Random): RetryPolicy {
  return retry(handleWhen(shouldRetry), { maxAttempts: cfg.maxAttempts, backoff: backoffFor(cfg, random) });
}
