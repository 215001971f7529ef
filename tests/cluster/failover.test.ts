/**
 * A server on a Redis Cluster whose master dies mid-call: the master serving the pool is killed
 * (SIGKILL), its replica is promoted, and the call goes on on the promoted master: chat, skip and
 * the next match work, and each person's event history is what they were sent, once each.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../server/state/keys';
import { startTestApp } from '../support/app';
import { connectUser, type TestUser } from '../support/client';
import { startRedisCluster } from '../support/redis-cluster';
import { FROM_START } from '../match/support';

/** `id`: the same for a retry of one message, so a retry after a lost reply is not a second message. */
const say = (from: TestUser, matchId: string, text: string, id = randomUUID()) => from.api.chat.send.mutate({ matchId, text, clientMessageId: id });

describe('a Redis Cluster master killed mid-call', () => {
  it('the replica takes over and the call, chat, skip and a newcomer’s match go on, every event delivered once', { timeout: 60_000 }, async () => {
    await using cluster = await startRedisCluster();
    await using app = await startTestApp(
      { REDIS_CLUSTER_NODES: cluster.nodesSetting, MATCH_SWEEP_INTERVAL_MS: '100', RECONNECT_GRACE_MS: '30000', HEARTBEAT_TIMEOUT_MS: '30000' },
      { redisUrl: cluster.nodes[0]!.url, prefix: 'rv' },
    );
    await using ann = await connectUser(app.url, { displayName: 'Ann', lastEventId: FROM_START });
    await using bob = await connectUser(app.url, { displayName: 'Bob', lastEventId: FROM_START });
    await ann.api.match.enqueue.mutate({});
    await bob.api.match.enqueue.mutate({});
    const { matchId } = await ann.next('matched');
    await bob.next('matched');
    await say(ann, matchId, 'before');
    await bob.next('chat', (e) => e.text === 'before');

    const master = await cluster.masterOf(new Keys('rv').poolPrefix('global'));
    await master.kill('SIGKILL');
    await cluster.waitHealthy();

    const afterId = randomUUID(); // one message, however many tries
    // A call may fail while the replica is promoted; the person tries again, as the client does.
    await expect
      .poll(
        () =>
          say(ann, matchId, 'after', afterId).then(
            () => true,
            () => false,
          ),
        { timeout: 20_000, interval: 200 },
      )
      .toBe(true);
    await bob.next('chat', (e) => e.text === 'after', 20_000);
    await ann.next('chat', (e) => e.text === 'after', 20_000); // her own message comes back too
    await bob.api.match.skip.mutate({ matchId });
    await ann.next('partner_left', undefined, 20_000);
    // Skip puts both back in the queue; a newcomer is matched with one of them (not with each other again).
    await using cy = await connectUser(app.url, { displayName: 'Cy', lastEventId: FROM_START });
    await cy.api.match.enqueue.mutate({});
    await cy.next('matched', undefined, 20_000);

    for (const u of [ann, bob]) {
      const ids = u.events.map((e) => e.id);
      expect(new Set(ids).size, `${u.userId}: no event delivered twice`).toBe(ids.length);
    }
    expect(ann.events.filter((e) => e.event.type === 'chat').map((e) => (e.event.type === 'chat' ? e.event.text : ''))).toEqual(['before', 'after']);
  });
});
