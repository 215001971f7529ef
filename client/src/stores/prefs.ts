/**
 * What the person chose on the landing page and wants next time on this device: interests,
 * language and region, whether to hide their IP address (on unless turned off) and how the nudity
 * shield treats a partner's video ('on' unless changed). Kept in
 * localStorage; anything unreadable there is simply forgotten.
 */
import { createSignal } from 'solid-js';
import { CODE } from '../lib/pools';
import { SHIELD_MODES, type ShieldMode } from '../shield/policy';
import { validInterests } from '../lib/validate';

const KEY = 'rendezvous.prefs';

export interface Prefs {
  interests: string[];
  /** null = Any (not sent). */
  language: string | null;
  region: string | null;
  /** Video through the relay only, so partners never see this device's address (README "Video"). */
  privacy: boolean;
  /** The nudity shield (README "The web client"): blur until safe, never, or always. */
  shield: ShieldMode;
}

function load(): Prefs {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Record<keyof Prefs, unknown>>;
    const code = (x: unknown) => (typeof x === 'string' && CODE.test(x) ? x : null);
    const shield = SHIELD_MODES.find((m) => m === v.shield) ?? 'on';
    return { interests: validInterests(v.interests), language: code(v.language), region: code(v.region), privacy: v.privacy !== false, shield };
  } catch {
    return { interests: [], language: null, region: null, privacy: true, shield: 'on' };
  }
}

export function createPrefsStore() {
  const [prefs, setPrefs] = createSignal<Prefs>(load());

  function update(change: Partial<Prefs>): void {
    const next = { ...prefs(), ...change };
    setPrefs(next);
    try {
      localStorage.setItem(KEY, JSON.stringify(next));
    } catch {
      // Storage full or blocked: the choice holds for this page only.
    }
  }

  return {
    interests: () => prefs().interests,
    language: () => prefs().language,
    region: () => prefs().region,
    privacy: () => prefs().privacy,
    shield: () => prefs().shield,
    setInterests: (interests: string[]) => update({ interests }),
    setLanguage: (language: string | null) => update({ language }),
    setRegion: (region: string | null) => update({ region }),
    setPrivacy: (privacy: boolean) => update({ privacy }),
    setShield: (shield: ShieldMode) => update({ shield }),
  };
}

export type PrefsStore = ReturnType<typeof createPrefsStore>;
