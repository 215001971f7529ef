/** A bound a client hit, as the TRPCError the edge answers with (its code and sentence from LimitExceededError). */
import { TRPCError } from '@trpc/server';
import type { LimitExceededError } from '../state/errors';

export function limitError(e: LimitExceededError): TRPCError {
  return new TRPCError({ code: e.httpCode, message: e.message, cause: e });
}
