/** The chat screen's small wordings: the call timer, the connection badge, shared interests, the wait. */
import { describe, expect, it } from 'vitest';
import { callStateText, clock, qualityText, sharedText, waitText } from '../../client/src/lib/format';

describe('the call screen wording', () => {
  it('shows a call length as m:ss, and h:mm:ss past an hour', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(9_999)).toBe('0:09');
    expect(clock(75_000)).toBe('1:15');
    expect(clock(3_600_000 + 62_000)).toBe('1:01:02');
    expect(clock(-500)).toBe('0:00');
  });

  it('says the connection in a word and keeps the numbers for the tooltip', () => {
    expect(qualityText({ level: 'good', rttMs: 42.4, lossPct: 0 })).toEqual({ label: 'Good connection', detail: 'round trip 42 ms, 0% packets lost' });
    expect(qualityText({ level: 'poor', rttMs: null, lossPct: 12.6 })).toEqual({ label: 'Poor connection', detail: '13% packets lost' });
    expect(qualityText({ level: 'fair', rttMs: null, lossPct: null }).detail).toBe('No measurements yet');
  });

  it('names shared interests as a sentence, and nothing when none are shared', () => {
    expect(sharedText([])).toBe('');
    expect(sharedText(['music'])).toBe('You both like music');
    expect(sharedText(['music', 'films'])).toBe('You both like music and films');
    expect(sharedText(['music', 'films', 'chess'])).toBe('You both like music, films and chess');
  });

  it('admits when there is no wait estimate', () => {
    expect(waitText(null)).toBe('No estimate yet');
    expect(waitText(20_000)).toBe('Expected wait: about 20 seconds');
    expect(waitText(60_000)).toBe('Expected wait: about 1 minute');
    expect(waitText(180_000)).toBe('Expected wait: about 3 minutes');
  });

  it('says reconnecting as soon as the partner drops, whatever the call phase', () => {
    expect(callStateText('connected', true)).toBe('Reconnecting...');
    expect(callStateText('reconnecting', false)).toBe('Reconnecting...');
    expect(callStateText('connected', false)).toBe('Connected');
    expect(callStateText('text-only', false)).toBe('Text only');
    // Without a camera or microphone of our own, a connected call is text only for us.
    expect(callStateText('connected', false, true)).toBe('Text only');
    expect(callStateText('connecting', false, true)).toBe('Connecting...');
    expect(callStateText('idle', false)).toBe('Connecting...');
  });
});
