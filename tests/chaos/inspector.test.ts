import { describe, expect, it } from 'vitest';
import { startInProcess } from './lib/systems';

describe('the chaos resting check', () => {
  it('accepts waiting users and a consistent pair, and calls a half-broken pair stuck', async () => {
    await using sys = await startInProcess({});
    const { store } = sys.app.server.services;
    const pool = 'global';
    await store.enqueue({ uid: 'ann', pool });
    const m = await store.enqueue({ uid: 'bob', pool });
    await store.enqueue({ uid: 'cy', pool });
    expect(m.match).not.toBeNull();
    expect(await sys.inspector.resting(['ann', 'bob', 'cy', 'nobody'])).toEqual({ ok: true, stuck: [] });

    // Bob is forced out of the match behind Ann's back: Ann now waits on a partner who is gone.
    await store.force({ uid: 'bob', pool, to: 'IDLE', actor: 'test', reason: 'break the pair' });
    const r = await sys.inspector.resting(['ann', 'bob', 'cy']);
    expect(r.ok).toBe(false);
    expect(r.stuck.map((s) => s.uid)).toEqual(['ann']);
  });
});
