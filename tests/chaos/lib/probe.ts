/**
 * "The app answers again": two fresh users (a new session each attempt, so the recent-partner
 * rule never keeps them apart) go through a whole match in a pool of their own (`zz`, so they
 * never meet the load): connect, both enqueue, they are paired, one ends, the other cancels. Every
 * step must succeed within a short deadline. With LiveKit configured the pairing must also come
 * with a LiveKit room again (not the direct-mode fallback): that is how the LiveKit breaker
 * closing shows to a user.
 */
import { connectUser, type TestUser } from '../../support/client';
import { timed } from './load';

// A listed language (POOL_LANGUAGES) that the load never uses: probes only meet each other.
const PROBE_POOL = 'ko';
const CALL_MS = 2000;

export class Probe {
  /** Every probe user made so far (they count among the users who must come to rest). */
  readonly userIds: string[] = [];
  /** Every probe client made so far (their `state` events count in the audit accounting). */
  readonly clients: TestUser[] = [];

  constructor(private readonly url: string) {}

  /** One round trip; true when every step succeeded. */
  async attempt(o: { livekit?: boolean } = {}): Promise<boolean> {
    const a = await this.connect();
    const b = a && (await this.connect());
    try {
      if (!a || !b) return false;
      const ea = await timed(null, 'probe', () => a.api.match.enqueue.mutate({ language: PROBE_POOL }), CALL_MS);
      if (!ea.ok) return false;
      const eb = await timed(null, 'probe', () => b.api.match.enqueue.mutate({ language: PROBE_POOL }), CALL_MS);
      const matchId = eb.ok ? eb.value.match?.matchId : undefined;
      if (!matchId) return false;
      if (o.livekit) {
        const m = await a.next('matched', (e) => e.matchId === matchId, CALL_MS).catch(() => null);
        if (m?.mode !== 'livekit') return false;
      }
      const end = await timed(null, 'probe', () => a.api.match.end.mutate({ matchId }), CALL_MS);
      if (!end.ok) return false;
      return (await timed(null, 'probe', () => b.api.match.cancel.mutate(), CALL_MS)).ok;
    } finally {
      await Promise.all([a?.close().catch(() => undefined), b?.close().catch(() => undefined)]);
    }
  }

  /** A new user, or null when the app does not let one connect in time (closed once it does). */
  private async connect(): Promise<TestUser | null> {
    const pending = connectUser(this.url, { displayName: 'Probe' });
    const r = await timed(null, 'probe', () => pending, CALL_MS);
    if (!r.ok) {
      void pending.then((u) => u.close()).catch(() => undefined);
      return null;
    }
    this.userIds.push(r.value.userId);
    this.clients.push(r.value);
    return r.value;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }
}
