/**
 * The languages and regions a person may queue by: the server's defaults (`POOL_LANGUAGES`,
 * `POOL_REGIONS`). A server configured with fewer refuses the others with a plain sentence
 * (UNSUPPORTED_POOL), so this list only has to be a sensible menu, not the source of truth.
 */
const LANGUAGES = ['en', 'es', 'pt', 'fr', 'de', 'it', 'nl', 'pl', 'ru', 'uk', 'tr', 'ar', 'fa', 'hi', 'bn', 'id', 'vi', 'th', 'ja', 'ko', 'zh'];
const REGIONS: Record<string, string> = {
  na: 'North America',
  sa: 'South America',
  eu: 'Europe',
  af: 'Africa',
  me: 'Middle East',
  as: 'Asia',
  oc: 'Oceania',
};

/** The server's rule for a pool code (2-8 lowercase letters). */
export const CODE = /^[a-z]{2,8}$/;

export interface PoolOption {
  code: string;
  label: string;
}

export function languageOptions(): PoolOption[] {
  const names = new Intl.DisplayNames(['en'], { type: 'language' });
  return LANGUAGES.map((code) => ({ code, label: names.of(code) ?? code })).sort((a, b) => a.label.localeCompare(b.label));
}

export function regionOptions(): PoolOption[] {
  return Object.entries(REGIONS).map(([code, label]) => ({ code, label }));
}
