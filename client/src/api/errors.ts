/**
 * Turning failures into plain words. The server writes its error messages for a person, so
 * those are shown as they are; only transport failures and raw validation output need wording here.
 */
import { TRPCClientError } from '@trpc/client';
import type { Challenge } from 'altcha-lib';
import { USER_MESSAGES } from '../../../server/resilience/messages';

interface ErrorData {
  code?: string;
  appCode?: string;
  details?: { retryAfterMs?: unknown; challenge?: unknown; receiptId?: unknown; reason?: unknown; endsAt?: unknown } | null;
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

/** The proof-of-work challenge a CHALLENGE_REQUIRED refusal carries, or null. */
export function challengeOf(e: unknown): Challenge | null {
  const data = dataOf(e);
  const c = data?.details?.challenge;
  return data?.appCode === 'CHALLENGE_REQUIRED' && c && typeof c === 'object' ? (c as Challenge) : null;
}

/** A ban receipt (BANNED): what to show and what to appeal with. */
export interface BanReceipt {
  receiptId: string;
  reason: string;
  /** Null: for good. */
  endsAt: number | null;
}

export function banOf(e: unknown): BanReceipt | null {
  const data = dataOf(e);
  const d = data?.details;
  if (data?.appCode !== 'BANNED' || typeof d?.receiptId !== 'string' || typeof d.reason !== 'string') return null;
  return { receiptId: d.receiptId, reason: d.reason, endsAt: typeof d.endsAt === 'number' ? d.endsAt : null };
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
