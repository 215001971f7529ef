import { describe, expect, it, vi } from 'vitest';
import { startLiveKitDouble } from '../livekit-double';
import { startTestApp } from '../support/app';
import { connectUser, matchedPair, refusal } from '../support/client';
import { consoleClient, secondApp } from './support';

// Both far below their defaults (500, 2000), so a wait bounded by a few intervals shows the setting is used.
const FAST = { SWITCHES_POLL_MS: '100', OVERVIEW_INTERVAL_MS: '100' };

describe('operator console: funnel and overview', () => {
  it('the funnel counts a match through matched, signalling and connected, and a match that ended before IN_CALL as missing', async () => {
    await using app = await startTestApp(FAST);
    const ops = await consoleClient(app);
    const one = await matchedPair(app.url);
    await one.a.api.signal.send.mutate({ matchId: one.matchId, data: { kind: 'description', description: { type: 'offer', sdp: 'v=0' } } });
    await one.b.api.signal.send.mutate({ matchId: one.matchId, data: { kind: 'description', description: { type: 'answer', sdp: 'v=0' } } });
    await one.a.api.match.joined.mutate({ matchId: one.matchId });
    await one.b.api.match.joined.mutate({ matchId: one.matchId });
    await one.a.api.signal.path.mutate({ matchId: one.matchId, path: 'relay' });
    // A match's path counts once, whoever resends it; someone outside the match is refused.
    await one.a.api.signal.path.mutate({ matchId: one.matchId, path: 'relay' });
    await one.b.api.signal.path.mutate({ matchId: one.matchId, path: 'direct' });
    await using stranger = await connectUser(app.url);
    expect((await refusal(stranger.api.signal.path.mutate({ matchId: one.matchId, path: 'relay' }))).data.appCode).toBe('NOT_IN_MATCH');
    await one.a.close();
    await one.b.close();
    const two = await matchedPair(app.url);
    // Both sides report the failure, one of them twice: one match with an ICE failure.
    await two.a.api.signal.media.mutate({ matchId: two.matchId, audio: false, video: false, failed: true });
    await two.a.api.signal.media.mutate({ matchId: two.matchId, audio: false, video: false, failed: true });
    await two.b.api.signal.media.mutate({ matchId: two.matchId, audio: false, video: false, failed: true });
    await two.a.api.match.end.mutate({ matchId: two.matchId });
    // Flushed and re-read every OVERVIEW_INTERVAL_MS (100 here): the default (2000) would miss this.
    await vi.waitFor(
      async () => {
        const f = await ops.funnel.query({ minutes: 5 });
        expect(f.totals).toMatchObject({
          matched: 2,
          signalling: 1,
          connected: 1,
          missing: 1,
          iceFailures: 1,
          relayed: 1,
          direct: 0,
          missingShare: 0.5,
          relayedShare: 1,
        });
      },
      { timeout: 1500, interval: 50 },
    );
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/funnel_total\{step="missing"\} 1/);
    expect(metrics).toMatch(/media_paths_total\{path="relay"\} 1/);
    expect(metrics).not.toMatch(/media_paths_total\{path="direct"\}/);
    expect(metrics).toMatch(/media_failures_total 3/);
    await two.a.close();
    await two.b.close();
  });

  it('in LiveKit mode the first of the pair to join the room is the signalling step', async () => {
    await using lk = await startLiveKitDouble();
    await using app = await startTestApp({ ...FAST, LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret });
    lk.setWebhookUrl(`${app.url}/livekit/webhook`);
    const ops = await consoleClient(app);
    const { a, b } = await matchedPair(app.url);
    const ma = await a.next('matched');
    const mb = await b.next('matched');
    expect(ma.mode).toBe('livekit');
    const totals = async () => (await ops.funnel.query({ minutes: 5 })).totals;
    await lk.join(ma.livekit!.room, a.userId, ma.livekit!.token);
    await vi.waitFor(async () => expect(await totals()).toMatchObject({ matched: 1, signalling: 1, connected: 0 }), { timeout: 1500, interval: 50 });
    await lk.join(mb.livekit!.room, b.userId, mb.livekit!.token);
    await a.next('state', (e) => e.to === 'IN_CALL');
    await vi.waitFor(async () => expect(await totals()).toMatchObject({ matched: 1, signalling: 1, connected: 1 }), { timeout: 1500, interval: 50 });
    await a.close();
    await b.close();
  });

  it('admin.funnel is read from Redis at most once per OVERVIEW_INTERVAL_MS for each window, whoever asks', async () => {
    await using app = await startTestApp({ SWITCHES_POLL_MS: '100', OVERVIEW_INTERVAL_MS: '60000' });
    const ops = await consoleClient(app);
    const read = vi.spyOn(app.server.services.ops.funnel, 'minutes');
    await Promise.all(Array.from({ length: 5 }, () => ops.funnel.query({ minutes: 30 })));
    await ops.funnel.query({ minutes: 30 });
    expect(read).toHaveBeenCalledTimes(1);
    await ops.funnel.query({ minutes: 60 });
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('a match whose CONNECTING deadline passes is missing and a ghost', async () => {
    await using app = await startTestApp({ ...FAST, CONNECTING_TIMEOUT_MS: '300' });
    const { a, b } = await matchedPair(app.url);
    await a.next('notice', (n) => n.code === 'CONNECT_TIMEOUT', 5000);
    await vi.waitFor(
      async () => expect((await (await consoleClient(app)).funnel.query()).totals).toMatchObject({ matched: 1, connected: 0, missing: 1, missingShare: 1 }),
      {
        timeout: 3000,
      },
    );
    expect(await (await fetch(`${app.url}/metrics`)).text()).toMatch(/ghost_matches_total 1/);
    await a.close();
    await b.close();
  });

  it('overview numbers follow people queueing and matching, and one snapshot serves every viewer of a process', async () => {
    await using app = await startTestApp({ SWITCHES_POLL_MS: '100', OVERVIEW_INTERVAL_MS: '60000' });
    const ops = await consoleClient(app);
    const overview = app.server.services.ops.overview;
    expect((await ops.overview.query()).pools.find((p) => p.pool === 'global')?.byState.WAITING).toBe(0);
    await using a = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await overview.refresh();
    const waiting = await ops.overview.query();
    expect(waiting.pools.find((p) => p.pool === 'global')).toMatchObject({ byState: { WAITING: 1 }, queueDepth: 1 });
    expect(waiting.online).toBeGreaterThanOrEqual(1);
    const build = vi.spyOn(overview, 'build');
    await Promise.all(Array.from({ length: 10 }, () => ops.overview.query()));
    expect(build).not.toHaveBeenCalled();
    await using b = await connectUser(app.url);
    await b.api.match.enqueue.mutate({});
    await a.next('matched');
    await overview.refresh();
    expect(build).toHaveBeenCalledTimes(1);
    const matched = await ops.overview.query();
    expect(matched.pools.find((p) => p.pool === 'global')?.byState.CONNECTING).toBe(2);
    expect(matched.series.matches.at(-1)).toBe(1);
    // One match, over five whole minutes and the part of this one that has passed: 1/6 to 1/5.
    expect(matched.matchesPerMinute).toBeGreaterThanOrEqual(1 / 6);
    expect(matched.matchesPerMinute).toBeLessThanOrEqual(1 / 5);
    expect(matched.waitP50Ms).not.toBeNull();
  });
});

describe('operator console: kill switches', () => {
  it('a switch set on one process is obeyed by another within its SWITCHES_POLL_MS, and not before', async () => {
    await using one = await startTestApp(FAST);
    await using two = await secondApp(one, FAST);
    await using slow = await secondApp(one, { SWITCHES_POLL_MS: '60000', OVERVIEW_INTERVAL_MS: '100' });
    await (await consoleClient(one)).switches.set.mutate({ stopMatching: true, reason: 'incident drill' });
    // 100 ms polls: seen well within the default's 500 ms.
    await vi.waitFor(() => expect(two.server.services.ops.switches.get().stopMatching).toBe(true), { timeout: 400, interval: 20 });
    expect(slow.server.services.ops.switches.get().stopMatching).toBe(false);
    expect(await (await fetch(`${two.url}/metrics`)).text()).toMatch(/kill_switch\{name="stopMatching"\} 1/);
    expect(await (await fetch(`${slow.url}/metrics`)).text()).toMatch(/kill_switch\{name="stopMatching"\} 0/);
    expect(await (await consoleClient(two)).switches.get.query()).toMatchObject({
      stopMatching: true,
      reason: 'incident drill',
      updatedBy: expect.stringMatching(/^operator:/),
    });
  });

  it('stopMatching leaves two waiting people unmatched, told so, and they match once it is cleared', async () => {
    await using app = await startTestApp(FAST);
    const ops = await consoleClient(app);
    await ops.switches.set.mutate({ stopMatching: true, reason: 'incident drill' });
    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    const notice = await b.next('notice');
    expect(notice.code).toBe('MATCHING_PAUSED');
    await app.server.services.match.tick();
    expect(a.events.some((e) => e.event.type === 'matched')).toBe(false);
    await ops.switches.set.mutate({ stopMatching: false, reason: 'drill over' });
    await a.next('matched', undefined, 3000);
  });

  it('textOnly makes new matches text only', async () => {
    await using app = await startTestApp(FAST);
    await (await consoleClient(app)).switches.set.mutate({ textOnly: true, reason: 'video trouble' });
    const { a, b, matchId } = await matchedPair(app.url);
    expect((await a.next('matched')).mode).toBe('text');
    expect((await b.next('matched')).mode).toBe('text');
    const offer = { kind: 'description' as const, description: { type: 'offer' as const, sdp: 'v=0' } };
    expect((await refusal(a.api.signal.send.mutate({ matchId, data: offer }))).data.appCode).toBe('TEXT_ONLY');
    // The chat is the conversation.
    await a.api.chat.send.mutate({ matchId, text: 'hello', clientMessageId: 'msg-text-1' });
    await b.next('chat');
    await a.close();
    await b.close();
  });

  it('textOnly makes new matches text only in LiveKit mode too: no room, no token', async () => {
    await using lk = await startLiveKitDouble();
    await using app = await startTestApp({ ...FAST, LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret });
    await (await consoleClient(app)).switches.set.mutate({ textOnly: true, reason: 'video trouble' });
    const { a, b } = await matchedPair(app.url);
    const matched = await a.next('matched');
    expect(matched.mode).toBe('text');
    expect(matched.livekit).toBeUndefined();
    expect(lk.rooms()).toEqual([]);
    await a.close();
    await b.close();
  });

  it('tightLimits makes every rate-limited action cost SWITCH_TIGHT_FACTOR points', async () => {
    await using app = await startTestApp({ ...FAST, RATE_STATS: '8/1m', SWITCH_TIGHT_FACTOR: '2' });
    await using a = await connectUser(app.url);
    for (let i = 0; i < 5; i++) await a.api.stats.online.query();
    await (await consoleClient(app)).switches.set.mutate({ tightLimits: true, reason: 'abuse wave' });
    // 8 points at 2 each: four calls (the default factor, 4, would refuse the third; no switch, the ninth).
    await using b = await connectUser(app.url);
    for (let i = 0; i < 4; i++) await b.api.stats.online.query();
    expect((await refusal(b.api.stats.online.query())).data.appCode).toBe('RATE_LIMITED');
  });
});

describe('operator console: people', () => {
  it('endMatch ends a call made on another process: both rest and are told', async () => {
    await using one = await startTestApp(FAST);
    await using two = await secondApp(one, FAST);
    const { a, b, matchId } = await matchedPair(one.url, { joined: true });
    await (await consoleClient(two)).endMatch.mutate({ matchId, reason: 'rule breach' });
    for (const u of [a, b]) {
      expect((await u.next('notice', (n) => n.code === 'OPERATOR_ENDED')).message).toBe('A moderator ended this chat.');
      await u.next('state', (s) => s.to === 'IDLE');
    }
    expect((await refusal((await consoleClient(one)).endMatch.mutate({ matchId, reason: 'rule breach' }))).data.appCode).toBe('NOT_IN_MATCH');
    await a.close();
    await b.close();
  });

  it("disconnect from another process ends the person's call, re-queues the partner and closes their sockets", async () => {
    await using one = await startTestApp(FAST);
    await using two = await secondApp(one, FAST);
    const { a, b } = await matchedPair(one.url, { joined: true });
    await (await consoleClient(two)).disconnect.mutate({ userId: a.userId, reason: 'rule breach' });
    await b.next('partner_left');
    await b.next('requeued');
    const detail = await (await consoleClient(one)).userDetail.query({ userId: a.userId });
    expect(detail.user?.state).toBe('IDLE');
    await vi.waitFor(() => expect(one.server.services.presence.connections(a.userId)).toBe(0), { timeout: 2000 });
    await a.close();
    await b.close();
  });

  it('lookup finds a queued person by name, case-insensitively, and by id', async () => {
    await using app = await startTestApp(FAST);
    await using a = await connectUser(app.url, { displayName: 'Zoë Quill' });
    await a.api.match.enqueue.mutate({});
    const ops = await consoleClient(app);
    const byName = await ops.lookup.query({ query: 'zoë quill' });
    expect(byName).toEqual([expect.objectContaining({ userId: a.userId, name: 'Zoë Quill', pool: 'global', state: 'WAITING' })]);
    expect(await ops.lookup.query({ query: a.userId })).toHaveLength(1);
    expect(await ops.lookup.query({ query: 'nobody here' })).toEqual([]);
  });
});
