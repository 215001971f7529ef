/**
 * The same rules the server applies to names and interests, checked before sending so the
 * person gets a clear sentence instead of a validation dump.
 */
const NAME = /^[\p{L}\p{N} _.'-]+$/u;
const TAG = /^[\p{L}\p{N} _-]+$/u;
/** The server's bounds (match.enqueue): at most this many interests, each this long. */
export const MAX_INTERESTS = 10;
const MAX_TAG = 24;

export function checkName(raw: string): { name: string } | { error: string } {
  const name = raw.trim();
  if (!name) return { name: '' };
  if (name.length > 32) return { error: 'Please use a name of at most 32 characters.' };
  if (!NAME.test(name)) return { error: "Names can use letters, numbers, spaces and . _ ' - only." };
  return { name };
}

/**
 * What the person typed in the interest box ("music, films"), added to the chips they have:
 * lower-cased, trimmed, duplicates dropped. Stops at the first tag that can't be used and says why.
 */
export function addInterests(current: readonly string[], raw: string): { interests: string[]; error?: string } {
  const interests = [...current];
  for (const part of raw.split(',')) {
    const tag = part.trim().replace(/\s+/g, ' ').toLowerCase();
    if (!tag || interests.includes(tag)) continue;
    if (tag.length > MAX_TAG) return { interests, error: `"${tag}" is too long: interests are at most ${MAX_TAG} characters.` };
    if (!TAG.test(tag)) return { interests, error: `"${tag}" can't be used: interests can use letters, numbers, spaces, _ and - only.` };
    if (interests.length >= MAX_INTERESTS) return { interests, error: `Please choose at most ${MAX_INTERESTS} interests.` };
    interests.push(tag);
  }
  return { interests };
}

/** A remembered list, kept only if every entry still passes (storage is not trusted). */
export function validInterests(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const strings = v.filter((x): x is string => typeof x === 'string');
  const r = addInterests([], strings.join(','));
  return r.interests;
}
