import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { transcriptOf } from '../../server/safety/transcript';
import { startTestApp, type TestApp } from '../support/app';
import { connectUser, type TestUser } from '../support/client';

type Chat = { allowContacts?: boolean; profanityFilter?: boolean };

/** Two users matched with each other, each having stated their text-safety choices. */
async function pair(app: TestApp, annChat?: Chat, bobChat?: Chat) {
  const ann = await connectUser(app.url, { displayName: 'Ann' });
  const bob = await connectUser(app.url, { displayName: 'Bob' });
  await ann.api.match.enqueue.mutate(annChat ? { chat: annChat } : {});
  await ann.next('queued');
  await bob.api.match.enqueue.mutate(bobChat ? { chat: bobChat } : {});
  const { matchId } = await ann.next('matched');
  return { ann, bob, matchId };
}

async function say(from: TestUser, to: TestUser, matchId: string, text: string) {
  const clientMessageId = randomUUID();
  await from.api.chat.send.mutate({ matchId, text, clientMessageId });
  const received = await to.next('chat', (e) => e.clientMessageId === clientMessageId);
  const echo = await from.next('chat', (e) => e.clientMessageId === clientMessageId);
  return { received, echo };
}

const CONTACTS = 'add me on example.com/bob, bob@mail.com or +1 555 123 4567';
const RUDE = 'you fuck1ng idiot';

describe('text safety on a real server', () => {
  it('by default the receiver sees links, e-mail, phone numbers and offensive words masked; the sender sees what they typed', async () => {
    await using app = await startTestApp();
    const { ann, bob, matchId } = await pair(app);
    await using _a = ann;
    await using _b = bob;

    const contacts = await say(ann, bob, matchId, CONTACTS);
    expect(contacts.received).toMatchObject({
      from: 'partner',
      text: 'add me on ***************, ************ or ***************',
      masked: ['link', 'email', 'phone'],
    });
    expect(contacts.echo).toMatchObject({ from: 'me', text: CONTACTS });
    expect(contacts.echo).not.toHaveProperty('masked');

    const rude = await say(bob, ann, matchId, RUDE);
    expect(rude.received).toMatchObject({ text: 'you ******* idiot', masked: ['word'] });
    expect(rude.echo.text).toBe(RUDE);

    const plain = await say(ann, bob, matchId, 'hello there');
    expect(plain.received.text).toBe('hello there');
    expect(plain.received).not.toHaveProperty('masked');
  });

  it('contacts show only when both users allow them; the word filter follows the receiver alone', async () => {
    await using app = await startTestApp();
    const one = await pair(app, { allowContacts: true }, { allowContacts: false, profanityFilter: false });
    await using _a = one.ann;
    await using _b = one.bob;
    // Ann allows contacts but Bob does not: hidden both ways.
    expect((await say(one.ann, one.bob, one.matchId, CONTACTS)).received.masked).toEqual(['link', 'email', 'phone']);
    expect((await say(one.bob, one.ann, one.matchId, CONTACTS)).received.masked).toEqual(['link', 'email', 'phone']);
    // Bob turned his filter off: he sees the word; Ann kept hers on (the default).
    expect((await say(one.ann, one.bob, one.matchId, RUDE)).received).toMatchObject({ text: RUDE });
    expect((await say(one.bob, one.ann, one.matchId, RUDE)).received).toMatchObject({ text: 'you ******* idiot', masked: ['word'] });

    const both = await pair(app, { allowContacts: true, profanityFilter: true }, { allowContacts: true });
    await using _c = both.ann;
    await using _d = both.bob;
    const mixed = `${CONTACTS}, ${RUDE}`;
    const r = await say(both.ann, both.bob, both.matchId, mixed);
    expect(r.received).toMatchObject({ text: `${CONTACTS}, you ******* idiot`, masked: ['word'] });
  });

  it("each message lands in the match's transcript in Postgres as typed, with what its receiver saw masked", async () => {
    await using app = await startTestApp();
    const { ann, bob, matchId } = await pair(app, undefined, { profanityFilter: false });
    await using _a = ann;
    await using _b = bob;
    await say(ann, bob, matchId, CONTACTS);
    await say(ann, bob, matchId, RUDE);
    await say(bob, ann, matchId, `${RUDE} at example.com`);
    const cmid = randomUUID();
    await bob.api.chat.send.mutate({ matchId, text: 'sent twice', clientMessageId: cmid });
    await bob.api.chat.send.mutate({ matchId, text: 'sent twice', clientMessageId: cmid });

    const db = app.server.services.database.db;
    await vi.waitFor(async () => expect(await transcriptOf(db, matchId)).toHaveLength(4), { timeout: 10_000 });
    const lines = await transcriptOf(db, matchId);
    expect(lines.map(({ from, to, text, masked }) => ({ from, to, text, masked }))).toEqual([
      { from: ann.userId, to: bob.userId, text: CONTACTS, masked: ['link', 'email', 'phone'] },
      { from: ann.userId, to: bob.userId, text: RUDE, masked: [] },
      { from: bob.userId, to: ann.userId, text: `${RUDE} at example.com`, masked: ['link', 'word'] },
      { from: bob.userId, to: ann.userId, text: 'sent twice', masked: [] },
    ]);
    expect(lines[3]!.clientMessageId).toBe(cmid);
    expect(lines.every((l, i) => i === 0 || l.at >= lines[i - 1]!.at)).toBe(true);
    expect(await transcriptOf(db, randomUUID())).toEqual([]);
  });
});
