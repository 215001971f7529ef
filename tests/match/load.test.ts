import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { connectUser, type TestUser } from '../support/client';
import { FROM_START, closeAll, history, matchedEvents, mintSession, queue } from './support';

// 2,000 real clients, each with its own session and WebSocket, half on each of two server
// processes (two in-process servers sharing Redis, the key prefix and the database).
const CLIENTS = 2000;
// Nothing but matching should happen: no keep-alive drops and no CONNECTING expiry, and (on a
// shared two-core machine, where this process runs both servers and all clients) no Redis command
// timing out because its reply waited behind thousands of others in this process's event loop.
const CALM = { HEARTBEAT_INTERVAL_MS: '20000', HEARTBEAT_TIMEOUT_MS: '60000', CONNECTING_TIMEOUT_MS: '600000', REDIS_COMMAND_TIMEOUT_MS: '30000' };

async function connectInBatches(urls: string[], tokens: Array<{ userId: string; token: string }>, batch = 200): Promise<TestUser[]> {
  const out: TestUser[] = [];
  for (let i = 0; i < tokens.length; i += batch) {
    const chunk = tokens.slice(i, i + batch);
    out.push(...(await Promise.all(chunk.map((t, j) => connectUser(urls[(i + j) % urls.length]!, { ...t, lastEventId: FROM_START })))));
  }
  return out;
}

describe('matchmaking under load, across two server processes', () => {
  it(`${CLIENTS} clients enqueuing at once on two servers are each matched exactly once, and both sides of every pair agree`, { timeout: 60_000 }, async () => {
    await using one = await startTestApp(CALM);
    await using two = await startTestApp({ ...CALM, ...one.redisEnv }, { redisUrl: one.redisUrl, prefix: one.prefix, databaseUrl: one.databaseUrl });
    const sessions = Array.from({ length: CLIENTS }, () => {
      const userId = randomUUID();
      return { userId, token: mintSession(one, userId) };
    });
    const users = await connectInBatches([one.url, two.url], sessions);
    try {
      const replies = await Promise.all(users.map((u) => u.api.match.enqueue.mutate({})));
      expect(replies.filter((r) => r.match !== null)).toHaveLength(CLIENTS / 2);
      await Promise.all(users.map((u) => u.next('matched', undefined, 30_000)));

      const byId = new Map(users.map((u) => [u.userId, u]));
      const matchIds = new Set<string>();
      for (const u of users) {
        const mine = matchedEvents(u);
        expect(mine).toHaveLength(1);
        const m = mine[0]!;
        const partner = byId.get(m.partnerId);
        expect(partner).toBeDefined();
        expect(matchedEvents(partner!)).toEqual([expect.objectContaining({ matchId: m.matchId, partnerId: u.userId })]);
        matchIds.add(m.matchId);
      }
      expect(matchIds.size).toBe(CLIENTS / 2);
      // What Redis recorded agrees with what was delivered: one `matched` per user.
      const recorded = await Promise.all(users.map(async (u) => (await history(one, u.userId)).filter((e) => e.event.type === 'matched').length));
      expect(recorded.every((n) => n === 1)).toBe(true);
      expect(await queue(one)).toEqual([]);
      const counts = await one.server.services.store.counts('global');
      expect(counts.CONNECTING).toBe(CLIENTS);
    } finally {
      await closeAll(users);
    }
  });
});
