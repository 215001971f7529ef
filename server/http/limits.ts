/** A bound or rate limit a client hit, as the TRPCError the edge answers with (its code and sentence from the error). */
import { TRPCError } from '@trpc/server';
import type { LimitExceededError } from '../state/errors';
import type { RateLimitedError } from '../safety/rate-limits';

export function limitError(e: LimitExceededError | RateLimitedError): TRPCError {
  return new TRPCError({ code: e.httpCode, message: e.message, cause: e });
}
