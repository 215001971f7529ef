/**
 * The same rules the server applies to names and interests, checked before sending so the
 * person gets a clear sentence instead of a validation dump.
 */
const NAME = /^[\p{L}\p{N} _.'-]+$/u;
const TAG = /^[\p{L}\p{N} _-]+$/u;

export function checkName(raw: string): { name: string } | { error: string } {
  const name = raw.trim();
  if (!name) return { name: '' };
  if (name.length > 32) return { error: 'Please use a name of at most 32 characters.' };
  if (!NAME.test(name)) return { error: "Names can use letters, numbers, spaces and . _ ' - only." };
  return { name };
}

export function parseInterests(raw: string): { interests: string[] } | { error: string } {
  const tags = [
    ...new Set(
      raw
        .split(',')
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  if (tags.length > 10) return { error: 'Please list at most 10 interests.' };
  const long = tags.find((t) => t.length > 24);
  if (long) return { error: `"${long}" is too long: interests are at most 24 characters.` };
  const bad = tags.find((t) => !TAG.test(t));
  if (bad) return { error: `"${bad}" can't be used: interests can use letters, numbers, spaces, _ and - only.` };
  return { interests: tags };
}
