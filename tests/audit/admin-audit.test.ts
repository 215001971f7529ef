import { describe, expect, it, vi } from 'vitest';
import { startTestApp } from '../support/app';
import { operatorClient } from '../support/operators';

describe('admin.audit over the partitioned tables, fed by the real scripts and the running drain', () => {
  it("a user's history comes back in order, and a match with every transition that mentions it", { timeout: 60_000 }, async () => {
    await using app = await startTestApp();
    const admin = await operatorClient(app, 'viewer');
    const store = app.server.services.store;
    const pool = 'global';

    await store.enqueue({ uid: 'ann', pool });
    const { match } = await store.enqueue({ uid: 'bob', pool });
    expect(match).not.toBeNull();
    const matchId = match!.matchId;
    await store.joined({ uid: 'ann', pool, matchId });
    await store.joined({ uid: 'bob', pool, matchId });
    await store.leave({ uid: 'ann', pool, reason: 'skip', matchId });

    await vi.waitFor(
      async () => {
        const m = await admin.admin.audit.match.query({ matchId });
        expect(m.match).toMatchObject({ id: matchId, endReason: 'skip', endedBy: 'ann' });
        expect(m.match?.connectedAt).not.toBeNull();
      },
      { timeout: 15_000, interval: 50 },
    );
    const history = await admin.admin.audit.user.query({ userId: 'ann' });
    expect(history.map((t) => `${t.fromState}->${t.toState}:${t.reason}`)).toEqual([
      'IDLE->WAITING:enqueue',
      'WAITING->CONNECTING:matched',
      'CONNECTING->IN_CALL:both_joined',
      'IN_CALL->DISCONNECTING:skip',
      'DISCONNECTING->WAITING:requeue',
    ]);
    expect(history.map((t) => t.version)).toEqual([1, 2, 3, 4, 5]);

    const { transitions } = await admin.admin.audit.match.query({ matchId });
    expect(transitions.map((t) => `${t.userId}:${t.toState}`).sort()).toEqual(
      ['ann:CONNECTING', 'bob:CONNECTING', 'ann:IN_CALL', 'bob:IN_CALL', 'ann:DISCONNECTING', 'bob:DISCONNECTING', 'ann:WAITING', 'bob:WAITING'].sort(),
    );
    const times = transitions.map((t) => new Date(t.at).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
