/**
 * The audio/video side of a match: local camera, the peer connection (direct) or LiveKit room,
 * and the remote stream. Text chat never waits for video: `onReady` (which reports
 * `match.joined`) fires when the call connects, at once when we have no camera, or after
 * CONNECT_TIMEOUT_MS whatever happened, so a failed video call still leaves a working chat.
 */
import { createSignal } from 'solid-js';
import type { SignalData } from '../../../server/events/types';
import type { Api, MatchEvent } from '../api/client';
import { DirectCall } from '../rtc/direct';
import { joinLivekit } from '../rtc/livekit';
import { getLocalMedia, stopStream } from '../rtc/media';
import type { DeviceStore } from './devices';

export type MatchedEvent = Extract<MatchEvent, { type: 'matched' }>;

const CONNECT_TIMEOUT_MS = 10_000;
const NO_VIDEO = "Video couldn't connect; text chat still works.";

interface ActiveCall {
  matchId: string;
  /** Signals that arrived before the peer connection existed (we were still asking for the camera). */
  early: SignalData[];
  direct: DirectCall | null;
  cleanups: Array<() => void>;
}

export function createCallStore(api: Api, devices: DeviceStore) {
  const [localStream, setLocalStream] = createSignal<MediaStream | null>(null);
  const [remoteStream, setRemoteStream] = createSignal<MediaStream | null>(null);
  const [status, setStatus] = createSignal('');
  const [connected, setConnected] = createSignal(false);
  let active: ActiveCall | null = null;

  async function start(ev: MatchedEvent, onReady: () => void): Promise<void> {
    stop();
    const call: ActiveCall = { matchId: ev.matchId, early: [], direct: null, cleanups: [] };
    active = call;
    let readySent = false;
    const ready = () => {
      if (readySent || active !== call) return;
      readySent = true;
      onReady();
    };
    setStatus('Starting your camera...');

    const media = await getLocalMedia(await devices.refresh());
    if (active !== call) return stopStream(media.stream); // the match ended while we waited
    call.cleanups.push(() => stopStream(media.stream));
    setLocalStream(media.stream);
    setStatus(media.problem ?? 'Connecting video...');
    if (!media.stream) ready(); // nothing to send: the chat must not wait for us

    const timer = setTimeout(() => {
      if (active !== call || connected()) return;
      setStatus(media.stream ? NO_VIDEO : (media.problem ?? NO_VIDEO));
      ready();
    }, CONNECT_TIMEOUT_MS);
    call.cleanups.push(() => clearTimeout(timer));

    const onConnected = () => {
      if (active !== call) return;
      setConnected(true);
      if (media.stream) setStatus(media.problem ?? '');
      ready();
    };

    if (ev.mode === 'livekit' && ev.livekit) {
      try {
        const room = await joinLivekit({
          url: ev.livekit.url,
          token: ev.livekit.token,
          stream: media.stream,
          onRemoteStream: (s) => active === call && setRemoteStream(s),
          onDisconnected: () => active === call && setStatus(NO_VIDEO),
        });
        if (active !== call) return room.leave();
        call.cleanups.push(() => room.leave());
        if (room.publishProblem) setStatus(room.publishProblem);
        onConnected();
      } catch {
        if (active !== call) return;
        setStatus(NO_VIDEO);
        ready();
      }
      return;
    }

    const direct = new DirectCall({
      polite: ev.role === 'polite',
      iceServers: ev.iceServers,
      stream: media.stream,
      send: (data) => void api.call(() => api.trpc.signal.send.mutate({ matchId: call.matchId, data })).catch(() => null),
      onRemoteStream: (s) => active === call && setRemoteStream(s),
      onConnected,
      onFailed: () => {
        if (active !== call) return;
        setStatus(NO_VIDEO);
        ready();
      },
    });
    call.direct = direct;
    call.cleanups.push(() => direct.close());
    for (const data of call.early.splice(0)) direct.handle(data);
  }

  /** A `signal` event from the partner (direct mode). */
  function signal(matchId: string, data: SignalData): void {
    if (!active || active.matchId !== matchId) return; // from an earlier match: stale
    if (active.direct) active.direct.handle(data);
    else active.early.push(data);
  }

  /** Hang up: close the connection and turn the camera off. Safe to call at any time. */
  function stop(): void {
    const call = active;
    active = null;
    for (const fn of call?.cleanups ?? []) fn();
    setLocalStream(null);
    setRemoteStream(null);
    setConnected(false);
    setStatus('');
  }

  return { localStream, remoteStream, status, connected, start, signal, stop };
}

export type CallStore = ReturnType<typeof createCallStore>;
