/**
 * A private call through a real TURN server (coturn on loopback, tests/support/turn-server.ts):
 * two people who keep "Hide my IP address" on (the default) connect over relay candidates only,
 * with credentials of their own that coturn accepted, and neither page is ever handed an address
 * that is not the relay's.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { startTurnServer } from '../support/turn-server';
import { answerLanding, pageSource, useBrowser } from './support/browser';
import { CONNECT_TIMEOUT_MS } from '../../client/src/stores/call';
import { freePort } from '../support/free-port';
import { expectText, expectVideoPlaying, say, startAndMatch, storedSession } from './support/call';

const { person } = useBrowser();

interface Watched {
  __pcs: RTCPeerConnection[];
  /** Every SDP and candidate string the page applied (setRemoteDescription, addIceCandidate). */
  __applied: string[];
}

/** Runs in the page before its scripts: keeps each peer connection, and what it is given of the partner's. */
function watchPeerConnections(): void {
  const w = window as unknown as Watched;
  w.__pcs = [];
  w.__applied = [];
  window.RTCPeerConnection = class extends window.RTCPeerConnection {
    constructor(config?: RTCConfiguration) {
      super(config);
      w.__pcs.push(this);
    }
    override setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void> {
      if (d.sdp) w.__applied.push(d.sdp);
      return super.setRemoteDescription(d);
    }
    override addIceCandidate(c?: RTCIceCandidateInit | null): Promise<void> {
      if (c?.candidate) w.__applied.push(c.candidate);
      return super.addIceCandidate(c);
    }
  };
}

interface PathTypes {
  /** Candidate types of the pair selected. */
  local?: string;
  remote?: string;
  /** Types of every candidate the connection has, its own and the partner's (prflx: an address learnt from a packet). */
  all: string[];
}

/** For each connected peer connection of the page: the pair it selected, and all its candidates' types. */
async function selectedPairsInPage(): Promise<PathTypes[]> {
  const out: PathTypes[] = [];
  for (const pc of (window as unknown as Watched).__pcs.filter((p) => p.connectionState === 'connected')) {
    const stats = await pc.getStats();
    let pairId: string | undefined;
    const all = new Set<string>();
    stats.forEach((s: { type: string; selectedCandidatePairId?: string; candidateType?: string }) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      if ((s.type === 'local-candidate' || s.type === 'remote-candidate') && s.candidateType) all.add(s.candidateType);
    });
    const pair = pairId ? (stats.get(pairId) as { localCandidateId: string; remoteCandidateId: string }) : undefined;
    const type = (id?: string) => (id ? (stats.get(id) as { candidateType?: string } | undefined)?.candidateType : undefined);
    out.push({ local: type(pair?.localCandidateId), remote: type(pair?.remoteCandidateId), all: [...all].sort() });
  }
  return out;
}

const selectedPairs = (page: Page) => page.evaluate<PathTypes[]>(pageSource(selectedPairsInPage));
const applied = (page: Page) => page.evaluate(() => (window as unknown as Watched).__applied);

/** Every candidate in what a page applied: the trickled strings and the SDPs' a=candidate lines. */
function candidatesIn(texts: string[]): string[] {
  return texts.flatMap((t) => (t.startsWith('candidate:') ? [t] : t.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'))));
}

describe('a private call through the relay', () => {
  it('two people hiding their IP addresses connect over relay candidates with their own TURN credentials, and are never handed an address but the relay’s', async () => {
    await using turn = await startTurnServer();
    await using app = await startTestApp({ TURN_URLS: turn.url, TURN_SECRET: turn.secret });
    const watch = { initScript: pageSource(watchPeerConnections) };
    const ann = await person(app, 'Ann', watch);
    const bob = await person(app, 'Bob', watch);
    expect(await ann.getByLabel(/Hide my IP address/).isChecked()).toBe(true);
    await startAndMatch(ann, bob);
    await expectVideoPlaying(ann, 'remote-video');
    await expectVideoPlaying(bob, 'remote-video');

    for (const page of [ann, bob]) {
      await expect.poll(() => selectedPairs(page), { timeout: 10_000 }).toEqual([{ local: 'relay', remote: 'relay', all: ['relay'] }]);
      const candidates = candidatesIn(await applied(page));
      expect(candidates.length).toBeGreaterThan(0);
      for (const c of candidates) expect(c).toMatch(/ typ relay( |$)/);
      // coturn accepted an allocation for this person's own username, <expiry>:<userId>.
      const { userId } = await storedSession(page);
      expect(turn.log()).toMatch(new RegExp(`user <\\d+:${userId}>: incoming packet ALLOCATE processed, success`));
    }
  }, 60_000);

  it('a server without a relay offers no "Hide my IP address" (it could not change anything there)', async () => {
    await using app = await startTestApp();
    const ann = await person(app, 'Ann');
    await ann.getByTestId('preview-video').waitFor();
    expect(await ann.getByLabel(/Hide my IP address/).count()).toBe(0);
  }, 60_000);

  it('with "Hide my IP address" turned off (remembered after a reload) the partner is handed direct addresses', async () => {
    await using turn = await startTurnServer();
    await using app = await startTestApp({ TURN_URLS: turn.url, TURN_SECRET: turn.secret });
    const watch = { initScript: pageSource(watchPeerConnections) };
    const ann = await person(app, 'Ann', watch);
    const bob = await person(app, 'Bob', watch);
    for (const page of [ann, bob]) await page.getByLabel(/Hide my IP address/).uncheck();
    await ann.reload();
    await answerLanding(ann, 'Ann');
    expect(await ann.getByLabel(/Hide my IP address/).isChecked()).toBe(false);
    await startAndMatch(ann, bob);
    await expectVideoPlaying(bob, 'remote-video');
    await expect.poll(async () => candidatesIn(await applied(bob)).some((c) => / typ host( |$)/.test(c))).toBe(true);
  }, 60_000);

  it('when no path can carry video (relay only, the TURN server unreachable) both people are told within seconds and go on by text', async () => {
    // Nothing listens on that port: relay-only gathering finds no candidate, ICE is restarted once, then the call gives up on video.
    const port = await freePort();
    await using app = await startTestApp({ TURN_URLS: `turn:127.0.0.1:${port}?transport=tcp`, TURN_SECRET: 'a-secret-for-the-test' });
    const ann = await person(app, 'Ann');
    const bob = await person(app, 'Bob');
    const matchedAt = Date.now();
    await startAndMatch(ann, bob);
    for (const page of [ann, bob]) await expectText(page, 'media-status', "Video couldn't connect; text chat still works.", CONNECT_TIMEOUT_MS);
    // Sooner than the connect timeout: the failure was seen, not waited out.
    expect(Date.now() - matchedAt).toBeLessThan(CONNECT_TIMEOUT_MS);
    for (const page of [ann, bob]) await expectText(page, 'call-state', 'Text only');
    await say(ann, 'video failed but this works');
    await bob.getByTestId('message').filter({ hasText: 'video failed but this works' }).waitFor();
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(Number(/^media_failures_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
