/**
 * The rooms domain inside a real server (tRPC over WebSocket, the webhook route, background
 * timers), against the LiveKit double.
 */
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../server/config';
import { startLiveKitDouble, type LiveKitDouble } from '../livekit-double';
import { startTestApp } from '../support/app';
import { operatorClient } from '../support/operators';
import { connectUser } from '../support/client';

const ICE = [{ urls: 'stun:stun.example.org:3478' }];

function env(lk: LiveKitDouble, extra: Record<string, string> = {}) {
  return {
    LIVEKIT_URL: lk.url,
    LIVEKIT_API_KEY: lk.apiKey,
    LIVEKIT_API_SECRET: lk.apiSecret,
    ICE_SERVERS: JSON.stringify(ICE),
    LIVEKIT_JANITOR_INTERVAL_MS: '100',
    ...extra,
  };
}

describe('video rooms in a running server', () => {
  it('a match gets a room and tokens, webhooks move the pair to IN_CALL, and skip deletes the room', async () => {
    await using lk = await startLiveKitDouble();
    await using app = await startTestApp(env(lk));
    lk.setWebhookUrl(`${app.url}/livekit/webhook`);
    await using a = await connectUser(app.url, { displayName: 'Ann' });
    await using b = await connectUser(app.url, { displayName: 'Bob' });
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    const ma = await a.next('matched');
    const mb = await b.next('matched');
    expect(ma).toMatchObject({ mode: 'livekit', iceServers: ICE, livekit: { url: lk.url.replace('http', 'ws') } });
    const room = ma.livekit!.room;
    expect(lk.room(room)).toMatchObject({ maxParticipants: 2, emptyTimeout: 30, departureTimeout: 20 });

    await lk.join(room, a.userId, ma.livekit!.token);
    await lk.join(room, b.userId, mb.livekit!.token);
    await a.next('state', (e) => e.to === 'IN_CALL');
    expect((await lk.sendForgedWebhook(lk.eventFor('participant_left', room, a.userId))).status).toBe(401);

    await b.api.match.skip.mutate({ matchId: ma.matchId });
    await a.next('partner_left', (e) => e.matchId === ma.matchId);
    await vi.waitFor(() => expect(lk.room(room)).toBeUndefined());
  });

  it('with LiveKit failing, matches go ahead in direct mode with the ICE servers', async () => {
    await using lk = await startLiveKitDouble();
    lk.failAlways('CreateRoom', 503);
    await using app = await startTestApp(env(lk, { LIVEKIT_BREAKER_THRESHOLD: '1', LIVEKIT_RETRY_BASE_MS: '5', LIVEKIT_RETRY_MAX_MS: '10' }));
    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    expect(await a.next('matched')).toMatchObject({ mode: 'direct', iceServers: ICE });
    expect(await b.next('matched')).toMatchObject({ mode: 'direct', iceServers: ICE });
  });

  it('a pair whose room LiveKit refused is paired again at once, with a room (the failed try was no meeting)', async () => {
    await using lk = await startLiveKitDouble();
    lk.failNext('CreateRoom', 1, 400);
    // No sweep within the test: the second pairing is the rollback's own.
    await using app = await startTestApp(env(lk, { MATCH_SWEEP_INTERVAL_MS: '600000' }));
    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    const ma = await a.next('matched');
    expect(ma).toMatchObject({ mode: 'livekit', partnerId: b.userId });
    expect(await b.next('matched')).toMatchObject({ mode: 'livekit', matchId: ma.matchId, partnerId: a.userId });
    expect(lk.calls('CreateRoom')).toBe(2);
  });

  it('a room deletion LiveKit keeps refusing is parked as a dead letter, listed for an operator, and deleted when they retry it', async () => {
    await using lk = await startLiveKitDouble();
    const env2 = env(lk, {
      LIVEKIT_RETRY_ATTEMPTS: '0',
      LIVEKIT_DELETE_RETRY_BASE_MS: '20',
      LIVEKIT_DELETE_RETRY_MAX_MS: '50',
      LIVEKIT_DELETE_MAX_ATTEMPTS: '3',
      LIVEKIT_BREAKER_THRESHOLD: '1000',
    });
    await using app = await startTestApp(env2);
    const admin = await operatorClient(app, 'admin');
    await using a = await connectUser(app.url);
    await using b = await connectUser(app.url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    const m = await a.next('matched');
    const room = m.livekit!.room;
    lk.failAlways('DeleteRoom', 500);
    await b.api.match.skip.mutate({ matchId: m.matchId });

    await vi.waitFor(async () => expect(await admin.admin.deadLetters.list.query({})).toMatchObject([{ source: 'room_deletion', attempts: 3 }]), {
      timeout: 10_000,
      interval: 100,
    });
    const [letter] = await admin.admin.deadLetters.list.query({});
    expect(lk.room(room)).toBeDefined();
    const calls = lk.calls('DeleteRoom');
    await new Promise((r) => setTimeout(r, 300));
    expect(lk.calls('DeleteRoom')).toBe(calls); // off the queue: no more attempts of its own

    await expect(admin.admin.deadLetters.retry.mutate({ id: letter!.id })).rejects.toMatchObject({ data: { appCode: 'DEAD_LETTER_RETRY_FAILED' } });
    lk.clearFaults();
    expect(await admin.admin.deadLetters.retry.mutate({ id: letter!.id })).toMatchObject({ status: 'retried', attempts: 5 });
    expect(lk.room(room)).toBeUndefined();
  });

  it('a bad ICE_SERVERS stops start-up and names the variable', () => {
    expect(() => loadConfig({ ICE_SERVERS: '[{"url":"stun:x"}]' })).toThrow(/ICE_SERVERS/);
    expect(() => loadConfig({ ICE_SERVERS: 'stun:x' })).toThrow(/ICE_SERVERS/);
    expect((loadConfig({}) as Record<string, unknown>).ICE_SERVERS).toEqual([]);
  });
});
