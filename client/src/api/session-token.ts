/**
 * The session token, kept in sessionStorage: it survives a reload but is per tab, so two tabs
 * are two different users (which is also how the app is tried out on one machine).
 */
export interface StoredSession {
  token: string;
  userId: string;
  displayName: string;
  /** The name the person typed ('' when the server picked "Stranger xxxx"). */
  chosenName: string;
  expiresAt: number;
  /** The age bracket the token carries (with the rules accepted), if the person gave one. */
  ageBracket?: AgeBracket;
  /** The server relays calls (TURN), so hiding one's IP address is a real choice. */
  relay?: boolean;
}

/** The age answers the server takes (server/safety/age.ts). */
export type AgeBracket = 'under-13' | '13-17' | '18+';
const BRACKETS: readonly string[] = ['under-13', '13-17', '18+'];
const CONSENT_KEY = 'rendezvous.age';

const DEVICE_KEY = 'rendezvous.device';

/** A random id this device keeps (a ban reaches the device, not only the session). */
export function deviceId(): string {
  try {
    const known = localStorage.getItem(DEVICE_KEY);
    if (known) return known;
    const fresh = crypto.randomUUID();
    localStorage.setItem(DEVICE_KEY, fresh);
    return fresh;
  } catch {
    return crypto.randomUUID(); // storage disabled: one per page
  }
}

/** The person's age answer with the rules accepted, remembered on the device (asked once). */
export function loadAgeBracket(): AgeBracket | null {
  try {
    const v = localStorage.getItem(CONSENT_KEY);
    return v && BRACKETS.includes(v) ? (v as AgeBracket) : null;
  } catch {
    return null;
  }
}

export function saveAgeBracket(b: AgeBracket): void {
  try {
    localStorage.setItem(CONSENT_KEY, b);
  } catch {
    /* see saveSession */
  }
}

const KEY = 'rendezvous.session';
// A token this close to expiry is replaced rather than used for a connection that may outlive it.
const EXPIRY_MARGIN_MS = 60_000;

export function loadSession(now = Date.now()): StoredSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof s.token !== 'string' || typeof s.userId !== 'string' || typeof s.expiresAt !== 'number') return null;
    if (!isUsable(s as StoredSession, now)) return null;
    const ageBracket = typeof s.ageBracket === 'string' && BRACKETS.includes(s.ageBracket) ? s.ageBracket : undefined;
    const relay = s.relay === true;
    return { token: s.token, userId: s.userId, displayName: s.displayName ?? '', chosenName: s.chosenName ?? '', expiresAt: s.expiresAt, ageBracket, relay };
  } catch {
    return null; // storage disabled or corrupt: start a fresh session
  }
}

export function isUsable(s: StoredSession, now = Date.now()): boolean {
  return s.expiresAt - EXPIRY_MARGIN_MS > now;
}

export function saveSession(s: StoredSession): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    // Private mode may refuse storage; the session still works for this page's lifetime.
  }
}

export function clearSession(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* see saveSession */
  }
}
