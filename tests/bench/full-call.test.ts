import { describe, expect, it } from 'vitest';
import { createFullCallDriver } from '../../bench/flow/full-call';
import { createTestDatabase, createTestRedis } from '../support/databases';
import { spawnServer } from '../match/fixtures/spawn';

const SECRET = 'full-call-bench-test-secret-0123456789';
// A short grace, so absent people who come back do so within the run.
const GRACE_MS = 1000;
const CALLS = 10;
// On a quiet machine 10 calls take well under a second; a loaded one (other suites running) may need many.
const WITHIN_MS = 12_000;

describe('benchmark: the full-call flow driver', () => {
  it('drives whole calls (signalling, IN_CALL, chat, skip or end) against a real server, with absent people mixed in', { timeout: 25_000 }, async () => {
    await using db = await createTestDatabase();
    await using kv = await createTestRedis();
    await using server = await spawnServer({
      REDIS_URL: kv.url,
      REDIS_PREFIX: kv.prefix,
      DATABASE_URL: db.url,
      SESSION_SECRET: SECRET,
      RECONNECT_GRACE_MS: String(GRACE_MS),
    });
    const calls: string[] = [];
    let enough = () => {};
    const reached = new Promise<void>((resolve) => (enough = resolve));
    const driver = createFullCallDriver({
      urls: [server.url],
      secret: SECRET,
      people: 40,
      skip: 0.3,
      // High, so that drops (and ghost accounting) happen within a short run.
      absent: 0.3,
      graceMs: GRACE_MS,
      onCall: (c) => {
        calls.push(c.matchId);
        if (calls.length >= CALLS) enough();
      },
    });
    try {
      expect(await driver.connect()).toEqual({ connected: 40, failed: 0 });
      driver.start();
      await Promise.race([reached, new Promise((r) => setTimeout(r, WITHIN_MS))]);
    } finally {
      const { counters: c, matchedToInCall } = await driver.stop();
      // Every call counted was handed to onCall, and reached IN_CALL with its messages on the wire.
      expect(c.calls).toBeGreaterThanOrEqual(CALLS);
      expect(calls).toHaveLength(c.calls);
      expect(new Set(calls).size).toBe(calls.length);
      expect(c.skips + c.ends).toBe(c.calls);
      expect(matchedToInCall.count).toBeGreaterThanOrEqual(CALLS);
      // Per call: an offer, an answer, and each side's 4 candidates in 2 signals.
      expect(c.sent['signal.send']).toBeGreaterThanOrEqual(6 * c.calls);
      expect(c.sent['chat.send']).toBeGreaterThanOrEqual(4 * c.calls);
      expect(c.received['event signal']).toBeGreaterThanOrEqual(6 * c.calls);
      expect(c.sent['chat.typing']).toBeGreaterThanOrEqual(4 * c.calls);
      expect(c.frames.sent).toBeGreaterThan(0);
      expect(typeof c.ghostMatches).toBe('number');
      expect(c.errors, c.lastError).toBe(0);
    }
  });
});
