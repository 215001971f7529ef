/** How numbers and times read in the console. */

export const num = (n: number | null | undefined): string => (n === null || n === undefined ? '—' : n.toLocaleString('en'));

export const ms = (n: number | null): string => (n === null ? '—' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);

export const seconds = (n: number | null): string => (n === null ? '—' : n < 90 ? `${Math.round(n)} s` : `${Math.floor(n / 60)} min ${Math.round(n % 60)} s`);

export const share = (n: number | null): string => (n === null ? '—' : `${(n * 100).toFixed(1)} %`);

/** A time from the server (epoch ms, epoch s from series, or an ISO string) as a local date and time. */
export function when(t: number | string | null | undefined): string {
  if (t === null || t === undefined) return '—';
  const d = typeof t === 'number' ? new Date(t < 1e12 ? t * 1000 : t) : new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

/** Ban durations offered to a moderator (null: for good). */
export const DURATIONS: { label: string; ms: number | null }[] = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
  { label: '30 days', ms: 30 * 86_400_000 },
  { label: 'For good', ms: null },
];
