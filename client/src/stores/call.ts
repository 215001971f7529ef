/**
 * The audio/video side of a match: the peer connection (direct) or LiveKit room, the partner's
 * stream, how the call is doing (`phase`, `quality`) and what the partner sends (`partnerMedia`).
 * Our own camera and microphone belong to the media store (asked for before queueing); the call
 * sends its stream and follows its device changes.
 *
 * Text chat never waits for video: `onReady` (which reports `match.joined`) fires when the call
 * connects, at once when we have no camera, or after CONNECT_TIMEOUT_MS whatever happened, so a
 * failed video call still leaves a working chat.
 */
import { createEffect, createSignal, on } from 'solid-js';
import type { Api, MatchEvent } from '../api/client';
import { DirectCall, type Signal } from '../rtc/direct';
import { joinLivekit, type LivekitCall } from '../rtc/livekit';
import { quality as qualityOf, type Quality } from '../rtc/path-stats';
import type { LocalMediaSource } from './media';

export type MatchedEvent = Extract<MatchEvent, { type: 'matched' }>;
export type CallPhase = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'text-only';

export const CONNECT_TIMEOUT_MS = 10_000;
const QUALITY_INTERVAL_MS = 2000;
const NO_VIDEO = "Video couldn't connect; text chat still works.";
const TEXT_ONLY = 'Video is off for now: this is a text chat.';

interface ActiveCall {
  matchId: string;
  /** Signals that arrived before the peer connection existed (we were still asking for the camera). */
  early: Signal[];
  direct: DirectCall | null;
  livekit: LivekitCall | null;
  /** Partner connections that were replaced (a reload): anything more from them is stale. */
  retired: Set<string>;
  /** Direct mode: close our connection and start a new one (the partner's page reloaded). */
  replace: (() => void) | null;
  /** Give up on video for this call and go on by text; `report` tells the partner and the server (once). */
  giveUp: ((report: boolean) => void) | null;
  cleanups: Array<() => void>;
}

/**
 * `privacy`: the person hides their IP address (prefs). With a TURN server among the match's ICE
 * servers the connection then uses relay candidates only, so the partner sees the relay's address.
 */
export function createCallStore(api: Api, media: LocalMediaSource, privacy: () => boolean) {
  const [remoteStream, setRemoteStream] = createSignal<MediaStream | null>(null);
  const [status, setStatus] = createSignal('');
  const [phase, setPhase] = createSignal<CallPhase>('idle');
  const [quality, setQuality] = createSignal<Quality | null>(null);
  const [partnerMedia, setPartnerMediaSignal] = createSignal<ReturnType<LocalMediaSource['sending']> | null>(null);
  const [connectedAt, setConnectedAt] = createSignal<number | null>(null);
  const [matchId, setMatchId] = createSignal<string | null>(null);
  let active: ActiveCall | null = null;

  media.onTrackReplaced((kind, track) => {
    const call = active;
    if (!call) return;
    const swap = call.direct?.replaceTrack(kind, track) ?? call.livekit?.replaceTrack(kind, track);
    void swap?.catch((e: unknown) => console.warn('[call] could not switch device', e));
  });

  // The partner is told what we send (camera off, muted, no device) whenever it changes.
  createEffect(on([() => media.sending(), matchId], () => announceMedia()));

  function announceMedia(): void {
    const id = matchId();
    if (!id) return;
    const { audio, video } = media.sending();
    api.call(() => api.trpc.signal.media.mutate({ matchId: id, audio, video })).catch(() => null);
  }

  async function start(ev: MatchedEvent, onReady: () => void, resumed: { connectedAt: number | null } | null = null): Promise<void> {
    stop();
    const call: ActiveCall = { matchId: ev.matchId, early: [], direct: null, livekit: null, retired: new Set(), replace: null, giveUp: null, cleanups: [] };
    active = call;
    setPhase(resumed ? 'reconnecting' : 'connecting');
    setConnectedAt(resumed?.connectedAt ?? null);
    let readySent = false;
    const ready = () => {
      if (readySent || active !== call) return;
      readySent = true;
      onReady();
    };
    // Text only (an operator turned video off): no call at all, the chat is the conversation.
    if (ev.mode === 'text') {
      setMatchId(ev.matchId);
      setPhase('text-only');
      setStatus(TEXT_ONLY);
      ready();
      return;
    }
    setStatus(media.stream() ? '' : 'Starting your camera...');
    const stream = await media.acquire();
    if (active !== call) return; // the match ended while we waited
    setMatchId(ev.matchId);
    setStatus(stream ? 'Connecting video...' : '');
    if (!stream) ready(); // nothing to send: the chat must not wait for us

    let reported = false;
    call.giveUp = (report) => {
      if (active !== call || phase() === 'text-only') return;
      setStatus(NO_VIDEO);
      setPhase('text-only');
      ready();
      if (!report || reported) return;
      reported = true;
      // The partner falls back too (they would otherwise wait for their own timeout), and the server counts it.
      api.call(() => api.trpc.signal.media.mutate({ matchId: ev.matchId, audio: false, video: false, failed: true })).catch(() => null);
    };
    const timer = setTimeout(() => phase() !== 'connected' && call.giveUp?.(true), CONNECT_TIMEOUT_MS);
    // The side that made the offer tells the server once whether the call's media went through a
    // relay (admin.funnel's relayed share, media_paths_total): one report per call.
    const pathReport = ev.role === 'impolite' ? (relayed: boolean) => reportPath(ev.matchId, relayed) : null;
    const poll = setInterval(() => void measure(call, pathReport), QUALITY_INTERVAL_MS);
    call.cleanups.push(() => (clearTimeout(timer), clearInterval(poll)));

    const onConnected = () => {
      if (active !== call) return;
      setPhase('connected');
      setConnectedAt((t) => t ?? Date.now());
      setStatus('');
      ready();
    };
    const onInterrupted = () => active === call && setPhase('reconnecting');
    const onFailed = () => call.giveUp?.(true);

    if (ev.mode === 'livekit' && ev.livekit) {
      try {
        const room = await joinLivekit({
          url: ev.livekit.url,
          token: ev.livekit.token,
          stream,
          onRemoteStream: (s) => active === call && setRemoteStream(s),
          onInterrupted,
          onReconnected: onConnected,
          onDisconnected: onFailed,
        });
        if (active !== call) return room.leave();
        call.livekit = room;
        call.cleanups.push(() => room.leave());
        onConnected();
        if (room.publishProblem) setStatus(room.publishProblem);
      } catch {
        onFailed();
      }
      return;
    }

    const connect = () => {
      const direct: DirectCall = new DirectCall({
        polite: ev.role === 'polite',
        iceServers: ev.iceServers,
        relayOnly: privacy() && hasTurn(ev.iceServers),
        stream: () => media.stream(),
        send: (data) => void api.call(() => api.trpc.signal.send.mutate({ matchId: call.matchId, data })).catch(() => null),
        onRemoteStream: (s) => active === call && call.direct === direct && setRemoteStream(s),
        onConnected: () => call.direct === direct && onConnected(),
        onInterrupted: () => call.direct === direct && onInterrupted(),
        onFailed: () => call.direct === direct && onFailed(),
      });
      call.direct = direct;
    };
    call.replace = () => {
      call.direct?.close();
      setPhase('reconnecting');
      connect();
    };
    call.cleanups.push(() => call.direct?.close());
    connect();
    for (const data of call.early.splice(0)) route(call, data);
  }

  /**
   * Hand a partner's signal to our connection. One from a partner connection we have not seen
   * while ours already talks to another means their page reloaded: ours is replaced to meet it.
   */
  function route(call: ActiveCall, data: Signal): void {
    const direct = call.direct;
    if (!direct) return void call.early.push(data);
    if (data.to && data.to !== direct.id) return; // meant for a connection of ours that is gone
    if (data.from && call.retired.has(data.from)) return; // from a partner connection that is gone
    if (data.from && direct.remoteId && data.from !== direct.remoteId) {
      call.retired.add(direct.remoteId);
      call.replace?.();
    }
    call.direct!.handle(data);
  }

  async function measure(call: ActiveCall, pathReport: ((relayed: boolean) => void) | null): Promise<void> {
    if (active !== call || phase() === 'idle') return;
    try {
      const s = await (call.direct ?? call.livekit)?.pathStats();
      if (s && active === call) setQuality(qualityOf(s));
      if (s && active === call && phase() === 'connected' && s.relayed !== null) pathReport?.(s.relayed);
    } catch {
      // Stats are a nicety: a failed reading leaves the last one shown.
    }
  }

  let pathReportedFor: string | null = null;
  function reportPath(matchId: string, relayed: boolean): void {
    if (pathReportedFor === matchId) return;
    pathReportedFor = matchId;
    api.call(() => api.trpc.signal.path.mutate({ matchId, path: relayed ? 'relay' : 'direct' })).catch(() => null);
  }

  /** A `signal` event from the partner (direct mode). */
  function signal(id: string, data: Signal): void {
    const call = active;
    if (!call || call.matchId !== id) return; // from an earlier match: stale
    route(call, data);
  }

  /** What the partner says they send (a `partner_media` event). */
  function setPartnerMedia(id: string, m: { audio: boolean; video: boolean; failed?: boolean }): void {
    if (active?.matchId !== id) return;
    setPartnerMediaSignal({ audio: m.audio, video: m.video });
    // Their video could not connect: ours will not either, so stop waiting for it.
    if (m.failed && phase() !== 'connected') active.giveUp?.(false);
  }

  /** Hang up: close the connection. Our camera stays on (the media store owns it). Safe to call at any time. */
  function stop(): void {
    const call = active;
    active = null;
    for (const fn of call?.cleanups ?? []) fn();
    setMatchId(null);
    setRemoteStream(null);
    setPhase('idle');
    setQuality(null);
    setPartnerMediaSignal(null);
    setConnectedAt(null);
    setStatus('');
  }

  return {
    remoteStream,
    status,
    phase,
    quality,
    partnerMedia,
    connectedAt,
    start,
    signal,
    setPartnerMedia,
    announceMedia,
    stop,
  };
}

/** True when `servers` name a TURN relay (the server sends one, with our own credentials, when it has TURN configured). */
function hasTurn(servers: MatchedEvent['iceServers']): boolean {
  return (servers ?? []).some((s) => [s.urls].flat().some((u) => /^turns?:/i.test(u)));
}

export type CallStore = ReturnType<typeof createCallStore>;
