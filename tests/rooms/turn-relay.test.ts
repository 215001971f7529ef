/**
 * TURN and IP privacy in a running server: each matched user's own credentials in their own
 * `matched` event, and the signal relay cleaning what a person who hides their address sends.
 * (No TURN server is needed here: the browser test, tests/e2e/turn.test.ts, calls through coturn.)
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { connectUser, type TestUser } from '../support/client';

const SECRET = 'test-turn-secret-0123456789';
const TURN = { TURN_URLS: 'turn:turn.example.org:3478', TURN_SECRET: SECRET, TURN_TTL_S: '900' };
const HOST = 'candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host generation 0';
const RELAY = 'candidate:4 1 udp 41885439 198.51.100.9 50000 typ relay raddr 0.0.0.0 rport 0 generation 0';
const OFFER = 'v=0\r\nm=audio 54321 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 192.168.1.20\r\na=candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host\r\n';

async function pair(url: string, privacy: { a?: boolean; b?: boolean }) {
  const a = await connectUser(url, { displayName: 'Ann' });
  const b = await connectUser(url, { displayName: 'Bob' });
  await a.api.match.enqueue.mutate(privacy.a === undefined ? {} : { privacy: privacy.a });
  await b.api.match.enqueue.mutate(privacy.b === undefined ? {} : { privacy: privacy.b });
  return { a, b, ma: await a.next('matched'), mb: await b.next('matched') };
}

/** `from` sends a host and a relay candidate and an offer with its address; what `to` receives. */
async function exchange(from: TestUser, to: TestUser, matchId: string) {
  const candidates = [HOST, RELAY].map((candidate) => ({ candidate, sdpMid: '0', sdpMLineIndex: 0 }));
  await from.api.signal.send.mutate({ matchId, data: { kind: 'candidates', candidates } });
  await from.api.signal.send.mutate({ matchId, data: { kind: 'description', description: { type: 'offer', sdp: OFFER } } });
  const got = await to.next('signal', (e) => e.data.kind === 'description');
  const cands = to.events.flatMap(({ event: e }) => (e.type === 'signal' && e.data.kind === 'candidates' ? e.data.candidates.map((c) => c.candidate) : []));
  return { candidates: cands, sdp: got.data.kind === 'description' ? got.data.description.sdp : undefined };
}

describe('TURN credentials and IP privacy', () => {
  it('each matched user gets TURN credentials of their own, <now + TURN_TTL_S>:<userId> signed with TURN_SECRET, in their own matched event', async () => {
    await using app = await startTestApp(TURN);
    const before = Math.floor(Date.now() / 1000);
    const { a, b, ma, mb } = await pair(app.url, {});
    await using _a = a;
    await using _b = b;
    for (const [user, m] of [
      [a, ma],
      [b, mb],
    ] as const) {
      expect(m.mode).toBe('direct');
      const turn = m.iceServers?.find((s) => [s.urls].flat().some((u) => u.startsWith('turn:')));
      expect(turn?.urls).toEqual(['turn:turn.example.org:3478']);
      const [expiry, uid] = turn!.username!.split(':');
      expect(uid).toBe(user.userId);
      expect(Number(expiry)).toBeGreaterThanOrEqual(before + 900);
      expect(Number(expiry)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 900);
      expect(turn!.credential).toBe(createHmac('sha1', SECRET).update(turn!.username!).digest('base64'));
    }
    expect(JSON.stringify(a.events)).not.toContain(mb.iceServers![0]!.credential!);
  });

  it('the partner of a person hiding their address (the default) gets only relay candidates and no address in the SDP', async () => {
    await using app = await startTestApp(TURN);
    const { a, b, ma } = await pair(app.url, {});
    await using _a = a;
    await using _b = b;
    const got = await exchange(a, b, ma.matchId);
    expect(got.candidates).toEqual([RELAY]);
    expect(got.sdp).not.toContain('192.168.1.20');
    expect(got.sdp).toContain('c=IN IP4 0.0.0.0');
  });

  it('a person who turned privacy off sends their addresses as they are', async () => {
    await using app = await startTestApp(TURN);
    const { a, b, ma } = await pair(app.url, { a: false });
    await using _a = a;
    await using _b = b;
    expect(await exchange(a, b, ma.matchId)).toEqual({ candidates: [HOST, RELAY], sdp: OFFER });
  });

  it('without TURN nothing is hidden (there is no relay to hide behind), and matched carries no TURN entry', async () => {
    await using app = await startTestApp();
    const { a, b, ma } = await pair(app.url, {});
    await using _a = a;
    await using _b = b;
    expect(ma.iceServers).toBeUndefined();
    expect(await exchange(a, b, ma.matchId)).toEqual({ candidates: [HOST, RELAY], sdp: OFFER });
  });
});
