/**
 * The nudity shield's policy (client/src/shield/policy.ts): which frames are explicit, when the
 * partner's video blurs and clears in each mode, what a reveal does, and when a report is offered.
 */
import { describe, expect, it } from 'vitest';
import {
  EXPLICIT_AT,
  SAFE_TO_CLEAR,
  SUSTAINED_HITS,
  SUSTAINED_WINDOW,
  initialState,
  isBlurred,
  observe,
  reveal,
  verdictOf,
  type ShieldMode,
  type ShieldState,
  type Verdict,
} from '../../client/src/shield/policy';

function run(mode: ShieldMode, verdicts: Verdict[], from: ShieldState = initialState(mode)): ShieldState {
  return verdicts.reduce((s, v) => observe(s, mode, v), from);
}
const times = (n: number, v: Verdict): Verdict[] => Array<Verdict>(n).fill(v);

describe('the verdict on one frame', () => {
  it('is explicit when Porn and Hentai together reach the threshold', () => {
    expect(verdictOf({ Porn: EXPLICIT_AT / 2, Hentai: EXPLICIT_AT / 2, Neutral: 1 - EXPLICIT_AT })).toBe('explicit');
    expect(verdictOf({ Porn: EXPLICIT_AT - 0.01, Neutral: 1 - EXPLICIT_AT + 0.01 })).toBe('safe');
  });

  it('does not count Sexy (swimwear, underwear) as explicit', () => {
    expect(verdictOf({ Sexy: 0.95, Neutral: 0.05 })).toBe('safe');
  });

  it('is safe for a neutral frame, and for missing scores', () => {
    expect(verdictOf({ Neutral: 0.97, Drawing: 0.02, Porn: 0.01 })).toBe('safe');
    expect(verdictOf({})).toBe('safe');
  });
});

describe('the shield on a partner', () => {
  it("starts blurred in 'on' and clears only after enough safe frames in a row", () => {
    expect(isBlurred(initialState('on'))).toBe(true);
    expect(isBlurred(run('on', times(SAFE_TO_CLEAR - 1, 'safe')))).toBe(true);
    expect(isBlurred(run('on', times(SAFE_TO_CLEAR, 'safe')))).toBe(false);
  });

  it('an explicit frame restarts the count of safe frames', () => {
    const s = run('on', [...times(SAFE_TO_CLEAR - 1, 'safe'), 'explicit', ...times(SAFE_TO_CLEAR - 1, 'safe')]);
    expect(isBlurred(s)).toBe(true);
  });

  it('one explicit frame after it cleared blurs it again, and says so', () => {
    const cleared = run('on', times(SAFE_TO_CLEAR, 'safe'));
    const s = observe(cleared, 'on', 'explicit');
    expect(isBlurred(s)).toBe(true);
    expect(s.reblurred).toBe(true);
    expect(isBlurred(run('on', times(SAFE_TO_CLEAR, 'safe'), s))).toBe(false);
  });

  it("never blurs in 'off', whatever the frames", () => {
    expect(isBlurred(initialState('off'))).toBe(false);
    expect(isBlurred(run('off', times(SUSTAINED_WINDOW, 'explicit')))).toBe(false);
  });

  it("stays blurred in 'always' however safe the frames, until revealed", () => {
    const s = run('always', times(10, 'safe'));
    expect(isBlurred(s)).toBe(true);
    expect(isBlurred(reveal(s))).toBe(false);
    expect(isBlurred(run('always', times(10, 'safe'), reveal(s)))).toBe(false);
  });

  it('a reveal shows the video at once, and an explicit frame after it blurs again', () => {
    const shown = reveal(initialState('on'));
    expect(isBlurred(shown)).toBe(false);
    const s = observe(shown, 'on', 'explicit');
    expect(isBlurred(s)).toBe(true);
    expect(s.reblurred).toBe(true);
  });
});

describe('sustained explicit frames', () => {
  it(`offer a report after ${SUSTAINED_HITS} explicit frames among the last ${SUSTAINED_WINDOW}`, () => {
    const almost = run('on', [...times(SUSTAINED_HITS - 1, 'explicit'), 'safe']);
    expect(almost.sustained).toBe(false);
    expect(observe(almost, 'on', 'explicit').sustained).toBe(true);
  });

  it('do not come from explicit frames spread wider than the window', () => {
    const spread = Array.from({ length: 20 }, (_, i): Verdict => (i % SUSTAINED_WINDOW === 0 ? 'explicit' : 'safe'));
    expect(run('on', spread).sustained).toBe(false);
  });

  it('stay offered once reached, for that partner', () => {
    const s = run('on', [...times(SUSTAINED_HITS, 'explicit'), ...times(20, 'safe')]);
    expect(s.sustained).toBe(true);
    expect(isBlurred(s)).toBe(false);
  });
});
