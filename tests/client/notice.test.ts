/**
 * The client's notice line for a refused call: a rate limit counts its wait down and clears
 * itself when the person may try again; any other failure is its sentence, as it is.
 */
import { TRPCClientError } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createNoticeStore } from '../../client/src/stores/notice';

function refused(message: string, data: Record<string, unknown>): TRPCClientError<never> {
  const e = new TRPCClientError<never>(message);
  Object.defineProperty(e, 'data', { value: data });
  return e;
}

describe('the notice line', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('counts a rate limit down second by second, then clears', () => {
    const notices = createNoticeStore();
    notices.failed(refused("You're skipping too fast. Please wait 3 seconds.", { appCode: 'RATE_LIMITED', details: { action: 'skip', retryAfterMs: 3000 } }));
    expect(notices.notice()?.text).toBe("You're skipping too fast. Please wait 3 seconds.");
    vi.advanceTimersByTime(1000);
    expect(notices.notice()?.text).toBe("You're skipping too fast. Please wait 2 seconds.");
    vi.advanceTimersByTime(1000);
    expect(notices.notice()?.text).toBe("You're skipping too fast. Please wait 1 second.");
    vi.advanceTimersByTime(1000);
    expect(notices.notice()).toBeNull();
  });

  it('stops counting once a newer notice replaced it', () => {
    const notices = createNoticeStore();
    notices.failed(refused("You're sending messages too fast. Please wait 5 seconds.", { appCode: 'RATE_LIMITED', details: { retryAfterMs: 5000 } }));
    notices.show('Your partner skipped.');
    vi.advanceTimersByTime(6000);
    expect(notices.notice()?.text).toBe('Your partner skipped.');
  });

  it('shows any other refusal as its sentence', () => {
    const notices = createNoticeStore();
    notices.failed(refused("You're not in a conversation right now.", { appCode: 'NOT_IN_MATCH' }));
    expect(notices.notice()).toMatchObject({ kind: 'error', text: "You're not in a conversation right now." });
  });

  it('takes a notice down once it stops being true, and leaves any other notice alone', () => {
    const notices = createNoticeStore();
    notices.show('Your partner skipped. Finding someone new...', 'info', 'looking');
    notices.clearIf('partner-connection');
    expect(notices.notice()?.text).toBe('Your partner skipped. Finding someone new...');
    notices.clearIf('looking'); // matched with someone new
    expect(notices.notice()).toBeNull();
    notices.show('You ended the chat.');
    notices.clearIf('looking');
    expect(notices.notice()?.text).toBe('You ended the chat.');
  });
});
