import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { startTestApp } from '../support/app';
import { connectUser } from '../support/client';

describe('the walking skeleton, end to end over real WebSockets', () => {
  it('two users are matched, chat, skip back into the queue, and end; every transition lands in Postgres', async () => {
    await using app = await startTestApp();
    await using ann = await connectUser(app.url, { displayName: 'Ann' });
    await using bob = await connectUser(app.url, { displayName: 'Bob' });

    await ann.api.match.enqueue.mutate({});
    await ann.next('queued');
    await bob.api.match.enqueue.mutate({});
    const mA = await ann.next('matched');
    const mB = await bob.next('matched');
    expect(mA.matchId).toBe(mB.matchId);
    expect(mA.partnerName).toBe('Bob');
    expect(mB.partnerName).toBe('Ann');
    expect(new Set([mA.role, mB.role])).toEqual(new Set(['polite', 'impolite']));

    await ann.api.chat.send.mutate({ matchId: mA.matchId, text: 'hello Bob', clientMessageId: randomUUID() });
    const got = await bob.next('chat');
    expect(got).toMatchObject({ from: 'partner', text: 'hello Bob' });

    await ann.api.match.joined.mutate({ matchId: mA.matchId });
    await bob.api.match.joined.mutate({ matchId: mA.matchId });
    await ann.next('state', (e) => e.to === 'IN_CALL');

    // Skip: both back to WAITING; the partner is told why. (Recent-partner rule keeps them apart.)
    await bob.api.match.skip.mutate({ matchId: mA.matchId });
    expect(await ann.next('partner_left')).toMatchObject({ reason: 'skip', matchId: mA.matchId });
    expect((await ann.api.session.me.query()).state).toBe('WAITING');
    expect((await bob.api.session.me.query()).state).toBe('WAITING');

    // A third user arrives and is matched with Ann, who was put at the front of the queue.
    await using cy = await connectUser(app.url, { displayName: 'Cy' });
    await cy.api.match.enqueue.mutate({});
    const m2 = await cy.next('matched');
    expect(m2.partnerName).toBe('Ann');

    // End: the ender rests, the partner goes back to the queue and is told.
    await cy.api.match.end.mutate({ matchId: m2.matchId });
    expect(await ann.next('partner_left', (e) => e.matchId === m2.matchId)).toMatchObject({ reason: 'end' });
    expect((await cy.api.session.me.query()).state).toBe('IDLE');

    const db = new pg.Client({ connectionString: app.databaseUrl });
    await db.connect();
    try {
      await vi.waitFor(
        async () => {
          const r = await db.query<{ n: number }>('select count(*)::int as n from state_transitions where user_id = $1', [cy.userId]);
          // IDLE->WAITING, WAITING->CONNECTING, CONNECTING->DISCONNECTING, DISCONNECTING->IDLE
          expect(r.rows[0]!.n).toBe(4);
        },
        { timeout: 5000 },
      );
      const rows = await db.query('select from_state, to_state, reason, match_id from state_transitions where user_id = $1 order by version', [cy.userId]);
      expect(rows.rows.map((r: { from_state: string; to_state: string }) => `${r.from_state}->${r.to_state}`)).toEqual([
        'IDLE->WAITING',
        'WAITING->CONNECTING',
        'CONNECTING->DISCONNECTING',
        'DISCONNECTING->IDLE',
      ]);
      const match = await db.query('select end_reason, ended_by from matches where id = $1', [m2.matchId]);
      expect(match.rows[0]).toEqual({ end_reason: 'end', ended_by: cy.userId });
    } finally {
      await db.end();
    }
  });

  it('a chat message retried with the same clientMessageId is delivered once', async () => {
    await using app = await startTestApp();
    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    const m = await a.next('matched');
    const cmid = randomUUID();
    await a.api.chat.send.mutate({ matchId: m.matchId, text: 'once', clientMessageId: cmid });
    const again = await a.api.chat.send.mutate({ matchId: m.matchId, text: 'once', clientMessageId: cmid });
    expect(again.duplicate).toBe(true);
    await a.api.chat.send.mutate({ matchId: m.matchId, text: 'after', clientMessageId: randomUUID() });
    await b.next('chat', (e) => e.text === 'after');
    expect(b.events.filter((e) => e.event.type === 'chat' && e.event.text === 'once')).toHaveLength(1);
  });

  it('a message to someone who is not your partner is refused and changes nothing', async () => {
    await using app = await startTestApp();
    await using a = await connectUser(app.url);
    await expect(a.api.chat.send.mutate({ matchId: randomUUID(), text: 'hi', clientMessageId: randomUUID() })).rejects.toMatchObject({
      data: { appCode: 'NOT_IN_MATCH' },
    });
    await expect(a.api.match.skip.mutate({})).rejects.toMatchObject({ message: "You're not in a conversation right now." });
  });
});
