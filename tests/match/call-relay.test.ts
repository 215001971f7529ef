import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { connectUser, matchedPair, refusal } from '../support/client';

describe('call: media state and signalling between partners', () => {
  it('signal.media reaches the partner as partner_media, and only the partner', async () => {
    await using app = await startTestApp();
    const { a, b, matchId } = await matchedPair(app.url);
    await using _a = a;
    await using _b = b;
    await a.api.signal.media.mutate({ matchId, audio: true, video: false });
    expect(await b.next('partner_media')).toMatchObject({ matchId, audio: true, video: false });
    await b.api.signal.media.mutate({ matchId, audio: false, video: true });
    expect(await a.next('partner_media')).toMatchObject({ matchId, audio: false, video: true });
    // Each hears only the other's: one event each.
    expect(a.events.filter((e) => e.event.type === 'partner_media')).toHaveLength(1);
    expect(b.events.filter((e) => e.event.type === 'partner_media')).toHaveLength(1);
  });

  it('signal.media outside that match is refused NOT_IN_MATCH, like typing: a stranger, and a match that is over', async () => {
    await using app = await startTestApp();
    const { a, b, matchId } = await matchedPair(app.url);
    await using _a = a;
    await using _b = b;
    await using stranger = await connectUser(app.url);
    const media = { matchId, audio: true, video: true };
    expect((await refusal(stranger.api.signal.media.mutate(media))).data.appCode).toBe('NOT_IN_MATCH');
    expect((await refusal(stranger.api.chat.typing.mutate({ matchId, typing: true }))).data.appCode).toBe('NOT_IN_MATCH');
    await a.api.match.end.mutate({ matchId });
    expect((await refusal(a.api.signal.media.mutate(media))).data.appCode).toBe('NOT_IN_MATCH');
    expect((await refusal(b.api.signal.media.mutate(media))).data.appCode).toBe('NOT_IN_MATCH');
    expect([...a.events, ...b.events, ...stranger.events].filter((e) => e.event.type === 'partner_media')).toEqual([]);
  });

  it('signal.send carries the peer-connection ids `from` and `to` unchanged on every kind, and adds none when not given', async () => {
    await using app = await startTestApp();
    const { a, b, matchId } = await matchedPair(app.url);
    await using _a = a;
    await using _b = b;
    const ids = { from: 'pc-1_A', to: 'Z'.repeat(40) };
    await a.api.signal.send.mutate({ matchId, data: { kind: 'description', description: { type: 'offer', sdp: 'v=0' }, ...ids } });
    await a.api.signal.send.mutate({ matchId, data: { kind: 'candidates', candidates: [{ candidate: 'c' }], from: 'pc-1_A' } });
    await a.api.signal.send.mutate({ matchId, data: { kind: 'connected', to: 'pc-2' } });
    await a.api.signal.send.mutate({ matchId, data: { kind: 'connected' } });
    await b.next('signal', (e) => e.data.kind === 'connected' && e.data.to === undefined);
    expect(b.events.flatMap((e) => (e.event.type === 'signal' ? [e.event.data] : []))).toEqual([
      { kind: 'description', description: { type: 'offer', sdp: 'v=0' }, ...ids },
      { kind: 'candidates', candidates: [{ candidate: 'c' }], from: 'pc-1_A' },
      { kind: 'connected', to: 'pc-2' },
      { kind: 'connected' },
    ]);
  });

  it('a peer-connection id longer than 40 characters or outside A-Z a-z 0-9 _ - is refused as invalid input', async () => {
    await using app = await startTestApp();
    const { a, b, matchId } = await matchedPair(app.url);
    await using _a = a;
    await using _b = b;
    for (const bad of ['x'.repeat(41), 'pc 1', 'pc/1', '']) {
      expect((await refusal(a.api.signal.send.mutate({ matchId, data: { kind: 'connected', from: bad } }))).data.appCode).toBe('INVALID_INPUT');
    }
    expect(b.events.filter((e) => e.event.type === 'signal')).toEqual([]);
  });

  it('a client whose video could not connect says so: the partner hears partner_media with failed, and media_failures_total counts it once', async () => {
    await using app = await startTestApp();
    const { a, b, matchId } = await matchedPair(app.url);
    await using _a = a;
    await using _b = b;
    await a.api.signal.media.mutate({ matchId, audio: true, video: true });
    expect(await b.next('partner_media')).toMatchObject({ audio: true, video: true, failed: false });
    await a.api.signal.media.mutate({ matchId, audio: false, video: false, failed: true });
    expect(await b.next('partner_media', (e) => e.failed)).toMatchObject({ matchId, audio: false, video: false, failed: true });
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^media_failures_total 1$/m);
  });
});
