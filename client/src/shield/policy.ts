/**
 * The nudity shield's policy, apart from any model or page: what a frame's classes mean, and
 * when the partner's video is blurred.
 *
 * - A frame is explicit when Porn + Hentai is at least EXPLICIT_AT. "Sexy" (underwear, swimwear,
 *   a bare chest) is left out: in a video chat it is common and not against the rules, and
 *   counting it would blur ordinary people at the beach or the gym.
 * - The video starts blurred and clears after SAFE_TO_CLEAR safe frames in a row (one lucky frame
 *   is not enough); a single explicit frame blurs it again at once.
 * - SUSTAINED_HITS explicit frames among the last SUSTAINED_WINDOW offer "Report with this
 *   picture", with the frame that made it sustained.
 * - Modes: 'on' (the default) as above; 'off' never blurs (and shield.ts then samples nothing and
 *   never loads the model); 'always' blurs every partner whatever
 *   the frames say. In every mode the person may reveal the current partner with one tap (their
 *   choice, their screen); a reveal lasts for that partner only, and an explicit frame after a
 *   reveal blurs again (the person asked to see this partner, not anything they may show).
 */

/** The model's five classes (nsfwjs NSFW_CLASSES). */
export const CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export type ClassName = (typeof CLASSES)[number];
export type Scores = Record<ClassName, number>;
export type Verdict = 'safe' | 'explicit';

export const SHIELD_MODES = ['on', 'off', 'always'] as const;
export type ShieldMode = (typeof SHIELD_MODES)[number];

// 0.6: nsfwjs' classes sum to 1, so this is "more likely explicit than everything else together",
// with a margin; the bundled MobileNetV2 is ~90% accurate, and a wrong blur costs a tap while a
// missed frame is seen. Lower thresholds blurred dim, skin-toned frames in the project's tests.
export const EXPLICIT_AT = 0.6;
// 3 safe frames in a row (~1.5 s at the sampling rate in shield/sampler.ts) before clearing.
export const SAFE_TO_CLEAR = 3;
// 3 explicit frames of the last 5 (~2.5 s): a few seconds of it, not one misread frame.
export const SUSTAINED_HITS = 3;
export const SUSTAINED_WINDOW = 5;

export function verdictOf(scores: Partial<Scores>): Verdict {
  return (scores.Porn ?? 0) + (scores.Hentai ?? 0) >= EXPLICIT_AT ? 'explicit' : 'safe';
}

export interface ShieldState {
  blurred: boolean;
  /** The person tapped "Show anyway" for this partner. */
  revealed: boolean;
  safeRun: number;
  /** The last SUSTAINED_WINDOW verdicts, newest last. */
  recent: Verdict[];
  /** Blurred again after having cleared (the page says so). */
  reblurred: boolean;
  /** Sustained explicit: the page offers "Report with this picture". */
  sustained: boolean;
}

/** A new partner: blurred unless the mode is 'off'. */
export function initialState(mode: ShieldMode): ShieldState {
  return { blurred: mode !== 'off', revealed: false, safeRun: 0, recent: [], reblurred: false, sustained: false };
}

/** The state after one classified frame. */
export function observe(s: ShieldState, mode: ShieldMode, v: Verdict): ShieldState {
  const recent = [...s.recent, v].slice(-SUSTAINED_WINDOW);
  const sustained = s.sustained || recent.filter((x) => x === 'explicit').length >= SUSTAINED_HITS;
  if (v === 'explicit') {
    const blurred = mode !== 'off';
    return { ...s, recent, sustained, safeRun: 0, blurred, revealed: false, reblurred: blurred && (s.reblurred || !isBlurred(s)) };
  }
  const safeRun = s.safeRun + 1;
  const blurred = mode === 'always' ? true : mode === 'off' ? false : s.blurred && safeRun < SAFE_TO_CLEAR;
  return { ...s, recent, sustained, safeRun, blurred, reblurred: blurred && s.reblurred };
}

/** One tap on "Show anyway". */
export function reveal(s: ShieldState): ShieldState {
  return { ...s, revealed: true, reblurred: false };
}

/** Whether the picture is shown blurred now. */
export function isBlurred(s: ShieldState): boolean {
  return s.blurred && !s.revealed;
}
