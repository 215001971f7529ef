/**
 * Turning failures into plain words. The server writes its error messages for a person, so
 * those are shown as they are; only transport failures and raw validation output need wording here.
 */
import { TRPCClientError } from '@trpc/client';
import { USER_MESSAGES } from '../../../server/resilience/messages';

interface ErrorData {
  code?: string;
  appCode?: string;
  details?: { retryAfterMs?: unknown } | null;
}

function dataOf(e: unknown): ErrorData | null {
  if (!(e instanceof TRPCClientError)) return null;
  const data: unknown = e.data;
  return data && typeof data === 'object' ? data : null;
}

/** The token was refused (expired, forged or missing): a new session is needed. */
export function isUnauthorized(e: unknown): boolean {
  return dataOf(e)?.code === 'UNAUTHORIZED';
}

/** The call never got an answer (socket closed, network down): safe to retry with the same idempotency key. */
export function isTransportError(e: unknown): boolean {
  return e instanceof TRPCClientError && dataOf(e) === null;
}

/** A rate limit's wait in ms (RATE_LIMITED), or null for any other failure. */
export function retryAfterMs(e: unknown): number | null {
  const data = dataOf(e);
  const wait = data?.details?.retryAfterMs;
  return data?.appCode === 'RATE_LIMITED' && typeof wait === 'number' ? wait : null;
}

export function errorText(e: unknown): string {
  if (isTransportError(e)) return USER_MESSAGES.UNREACHABLE;
  const data = dataOf(e);
  const message = e instanceof Error ? e.message : '';
  // zod validation errors arrive as a JSON list of issues, which is not for a person.
  if (data?.code === 'BAD_REQUEST' && message.trim().startsWith('[')) return USER_MESSAGES.INVALID_INPUT;
  if (message) return message;
  return USER_MESSAGES.INTERNAL;
}
