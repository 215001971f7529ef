/**
 * Three server processes behind nginx (the documented docs/deploy/nginx.conf), one public port,
 * nothing sticky. The process a person's WebSocket is on is killed mid-call (SIGKILL): their
 * client reconnects through nginx to another process, resumes its event stream with no gap and
 * no duplicate, and the call goes on.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connectUser, type TestUser } from '../support/client';
import { createTestDatabase, createTestRedis } from '../support/databases';
import { startNginx } from '../support/nginx';
import { spawnServer, type ServerProcess } from '../match/fixtures/spawn';
import { FROM_START } from '../match/support';

const SECRET = 'balancer-test-session-secret-0123456789';

/** `id`: the same for a retry of one message, so a retry after a lost reply is not a second message. */
const say = (from: TestUser, matchId: string, text: string, id = randomUUID()) => from.api.chat.send.mutate({ matchId, text, clientMessageId: id });
const chats = (u: TestUser) => u.events.flatMap((e) => (e.event.type === 'chat' ? [e.event.text] : []));

/** Open WebSockets on one process, from its own /metrics. */
async function sockets(p: ServerProcess): Promise<number> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  return Number(/^ws_connections (\d+)/m.exec(text)?.[1] ?? 0);
}

describe('several server processes behind nginx', () => {
  it(
    'a process killed mid-call: its client reconnects through nginx to another, resumes every event once, and the call goes on',
    { timeout: 60_000 },
    async () => {
      await using db = await createTestDatabase();
      await using kv = await createTestRedis();
      const env = {
        REDIS_URL: kv.url,
        ...kv.env,
        REDIS_PREFIX: kv.prefix,
        DATABASE_URL: db.url,
        SESSION_SECRET: SECRET,
        TRUST_PROXY: 'true',
        RECONNECT_GRACE_MS: '20000',
      };
      const servers = await Promise.all([spawnServer(env), spawnServer(env), spawnServer(env)]);
      try {
        await using lb = await startNginx(servers.map((s) => Number(new URL(s.url).port)));
        await using ann = await connectUser(lb.url, { displayName: 'Ann', lastEventId: FROM_START });
        const counts = await Promise.all(servers.map(sockets));
        const annsServer = servers[counts.findIndex((n) => n > 0)]!;
        await using bob = await connectUser(lb.url, { displayName: 'Bob', lastEventId: FROM_START });
        await ann.api.match.enqueue.mutate({});
        await bob.api.match.enqueue.mutate({});
        const { matchId } = await ann.next('matched');
        await say(bob, matchId, 'one');
        await ann.next('chat', (e) => e.text === 'one');

        await annsServer.kill();
        // Ann's client reconnects on its own; nginx skips the dead process.
        await say(bob, matchId, 'two');
        await ann.next('chat', (e) => e.text === 'two', 20_000);
        const threeId = randomUUID(); // one message, however many tries
        await expect
          .poll(
            () =>
              say(ann, matchId, 'three', threeId).then(
                () => true,
                () => false,
              ),
            { timeout: 20_000 },
          )
          .toBe(true);
        await bob.next('chat', (e) => e.text === 'three', 20_000);
        await ann.next('chat', (e) => e.text === 'three', 20_000); // her own message comes back too

        // Each side's own messages come back too: the conversation, in order, each message once.
        for (const u of [ann, bob]) {
          expect(chats(u)).toEqual(['one', 'two', 'three']);
          const ids = u.events.map((e) => e.id);
          expect(new Set(ids).size).toBe(ids.length);
        }
        // Ann is on one of the two processes left.
        expect((await Promise.all(servers.filter((s) => s !== annsServer).map(sockets))).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(2);
        for (const u of [ann, bob]) expect(u.events.some((e) => e.event.type === 'partner_left')).toBe(false);
      } finally {
        await Promise.all(servers.map((s) => s[Symbol.asyncDispose]()));
      }
    },
  );
});
