/**
 * The person's own camera and microphone, from the landing page's preview through every call:
 * one stream, asked for once (before queueing), sent by each call, stopped on pagehide.
 *
 * Health: a track that ends (unplugged, taken by another app, revoked) is dropped from the stream
 * at once, the call is told (`onTrackReplaced(kind, null)`) so the partner is not left with a
 * frozen frame, the person is told, and "Try camera again" is offered. When a device of that kind
 * shows up again (`devicechange`) it is opened by itself and the call gets the new track. Picking
 * another camera or microphone mid-call works the same way: new track in, old one stopped.
 */
import { batch, createSignal } from 'solid-js';
import { mediaProblem, openTrack, presentKinds, type Kind } from '../rtc/media';
import type { NoticeStore } from './notice';

/** What the call store needs from local media (the issue 19 contract). */
export interface LocalMediaSource {
  /** The stream to send (also the preview): tracks may be disabled (muted / camera off). null = text only. */
  stream(): MediaStream | null;
  /** Ask for camera+mic if not yet (before queueing); resolves to the stream or null (denied, none, text-only chosen). */
  acquire(): Promise<MediaStream | null>;
  /** What the partner can actually receive now (reactive). */
  sending(): { audio: boolean; video: boolean };
  /** A track was swapped (device picked, camera back after a loss) or lost (null): the call replaces it on its sender. */
  onTrackReplaced(fn: (kind: Kind, track: MediaStreamTrack | null) => void): () => void;
}

/** 'unknown' until asked (or the browser can't say); 'unsupported' where there is no getUserMedia (plain http). */
export type Permission = 'unknown' | 'granted' | 'denied' | 'unsupported';

export interface DeviceOption {
  id: string;
  label: string;
}

const LOST: Record<Kind, string> = {
  video: "Your camera stopped, so your partner can't see you. It comes back by itself when the camera is connected again.",
  audio: "Your microphone stopped, so your partner can't hear you. It comes back by itself when it's connected again.",
};
const NAMES: Record<Kind, string> = { video: 'Camera', audio: 'Microphone' };

export function createMediaStore(notices: NoticeStore) {
  const md = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
  const supported = !!md?.getUserMedia && !!md.enumerateDevices;
  const [tracks, setTracks] = createSignal<Record<Kind, MediaStreamTrack | null>>({ audio: null, video: null });
  const [permission, setPermission] = createSignal<Permission>(supported ? 'unknown' : 'unsupported');
  const [textOnly, setTextOnly] = createSignal(false);
  const [muted, setMuted] = createSignal(false);
  const [cameraOff, setCameraOff] = createSignal(false);
  const [devices, setDevices] = createSignal<Record<Kind, DeviceOption[]>>({ audio: [], video: [] });
  const [lost, setLost] = createSignal<Kind[]>([]);
  const [problem, setProblem] = createSignal<string | null>(null);
  const [acquiring, setAcquiring] = createSignal(false);
  const listeners = new Set<(kind: Kind, track: MediaStreamTrack | null) => void>();
  /** The device the person picked per kind, preferred when reopening. */
  const picked: Partial<Record<Kind, string>> = {};
  let current: MediaStream | null = null;
  let opening: Promise<MediaStream | null> | null = null;

  const emit = (kind: Kind, track: MediaStreamTrack | null) => listeners.forEach((fn) => fn(kind, track));
  const sync = () => setTracks({ audio: current?.getAudioTracks()[0] ?? null, video: current?.getVideoTracks()[0] ?? null });
  const enable = (kind: Kind, t: MediaStreamTrack) => (t.enabled = kind === 'audio' ? !muted() : !cameraOff());

  function watch(kind: Kind, t: MediaStreamTrack): void {
    t.addEventListener('ended', () => tracks()[kind] === t && onLost(kind));
  }

  /** A track ended or its device went away: drop it, tell the call and the person. */
  function onLost(kind: Kind): void {
    const t = tracks()[kind];
    if (!t || !current) return;
    current.removeTrack(t);
    t.stop();
    batch(() => {
      sync();
      setLost([...new Set([...lost(), kind])]);
      setProblem(`${NAMES[kind]} disconnected.`); // the notice says the rest
    });
    notices.show(LOST[kind], 'error');
    emit(kind, null);
  }

  /** Put a fresh track of a kind into the stream in place of the old one. */
  function install(kind: Kind, t: MediaStreamTrack): void {
    const old = tracks()[kind];
    current ??= new MediaStream();
    if (old) {
      current.removeTrack(old);
      old.stop();
    }
    enable(kind, t);
    current.addTrack(t);
    watch(kind, t);
    batch(() => {
      sync();
      const left = lost().filter((k) => k !== kind);
      setLost(left);
      if (!left.length) setProblem(null);
    });
    emit(kind, t);
  }

  async function refreshDevices(): Promise<void> {
    const list = await md?.enumerateDevices().catch(() => []);
    const of = (k: MediaDeviceKind, name: string) =>
      (list ?? []).filter((d) => d.kind === k && d.deviceId).map((d, i) => ({ id: d.deviceId, label: d.label || `${name} ${i + 1}` }));
    setDevices({ video: of('videoinput', 'Camera'), audio: of('audioinput', 'Microphone') });
  }

  async function open(): Promise<MediaStream | null> {
    setAcquiring(true);
    try {
      const kinds = await presentKinds();
      if (!kinds.size) throw new DOMException('No devices', 'NotFoundError');
      const s = await md!.getUserMedia({ video: kinds.has('video'), audio: kinds.has('audio') });
      if (textOnly()) {
        s.getTracks().forEach((t) => t.stop()); // text only was chosen while the browser asked
        return null;
      }
      current = s;
      for (const t of s.getTracks()) {
        const kind = t.kind as Kind;
        enable(kind, t);
        watch(kind, t);
      }
      batch(() => {
        setPermission('granted');
        setProblem(null);
        setLost([]);
        sync();
      });
      await refreshDevices();
      return s;
    } catch (e) {
      const p = mediaProblem(e);
      if (p.denied) setPermission('denied');
      setProblem(p.text);
      return null;
    } finally {
      setAcquiring(false);
    }
  }

  function acquire(): Promise<MediaStream | null> {
    if (!supported || textOnly()) return Promise.resolve(null);
    if (tracks().audio || tracks().video) return Promise.resolve(current);
    return (opening ??= open().finally(() => (opening = null)));
  }

  /** Reopen what was lost (or ask again if nothing was ever opened). False if it still fails. */
  async function retry(quiet = false): Promise<boolean> {
    const kinds = lost();
    if (!kinds.length) return !!(await acquire());
    let ok = true;
    for (const kind of kinds) {
      const want = devices()[kind].some((d) => d.id === picked[kind]) ? picked[kind] : undefined;
      try {
        install(kind, await openTrack(kind, want));
      } catch (e) {
        ok = false;
        if (!quiet) setProblem(mediaProblem(e).text);
      }
    }
    if (ok) {
      notices.show(kinds.includes('video') ? 'Your camera is back.' : 'Your microphone is back.');
      notices.expireSoon(3000);
    }
    return ok;
  }

  async function select(kind: Kind, id: string): Promise<void> {
    picked[kind] = id;
    if (textOnly() || tracks()[kind]?.getSettings().deviceId === id) return;
    try {
      install(kind, await openTrack(kind, id));
    } catch (first) {
      // Some systems open only one camera at a time: free the old one and try once more.
      const old = tracks()[kind];
      if (!(first instanceof DOMException && first.name === 'NotReadableError') || !old) return void notices.error(mediaProblem(first).text);
      old.stop();
      try {
        install(kind, await openTrack(kind, id));
      } catch (e) {
        onLost(kind);
        notices.error(mediaProblem(e).text);
      }
    }
  }

  /** Stop every track (text only chosen, or the page is going away). */
  function stopAll(): void {
    const had = tracks();
    current?.getTracks().forEach((t) => t.stop());
    current = null;
    batch(() => {
      sync();
      setLost([]);
      setProblem(null);
    });
    for (const kind of ['audio', 'video'] as const) if (had[kind]) emit(kind, null);
  }

  md?.addEventListener('devicechange', () => {
    void refreshDevices().then(() => {
      // A device in use that is gone without its track ending (some browsers): lost all the same.
      for (const kind of ['audio', 'video'] as const) {
        const id = tracks()[kind]?.getSettings().deviceId;
        if (id && devices()[kind].length && !devices()[kind].some((d) => d.id === id)) onLost(kind);
      }
      if (lost().some((k) => devices()[k].length)) void retry(true);
    });
  });
  // Camera lights go off with the page; a page restored from the back/forward cache asks again.
  window.addEventListener('pagehide', stopAll);
  window.addEventListener('pageshow', (e) => e.persisted && permission() === 'granted' && void acquire());
  const asked = navigator.permissions
    ?.query({ name: 'camera' })
    .then((s) => s.state === 'granted' && permission() === 'unknown' && setPermission('granted'))
    .catch(() => null);

  const store = {
    stream: (): MediaStream | null => (tracks().audio || tracks().video ? current : null),
    acquire,
    sending: () => ({ audio: !!tracks().audio && !muted(), video: !!tracks().video && !cameraOff() }),
    onTrackReplaced(fn: (kind: Kind, track: MediaStreamTrack | null) => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    supported,
    permission,
    acquiring,
    textOnly,
    muted,
    cameraOff,
    problem,
    /** Kinds lost to an unplugged or failed device, waiting to come back ("Try camera again"). */
    lost,
    audioTrack: () => tracks().audio,
    videoTrack: () => tracks().video,
    cameras: () => devices().video,
    microphones: () => devices().audio,
    cameraId: () => tracks().video?.getSettings().deviceId ?? '',
    microphoneId: () => tracks().audio?.getSettings().deviceId ?? '',
    selectCamera: (id: string) => select('video', id),
    selectMicrophone: (id: string) => select('audio', id),
    refreshDevices,
    retry: () => retry(false),
    /** Start the preview without a click when the browser already has permission from an earlier visit. */
    async resume(): Promise<void> {
      await asked;
      if (permission() === 'granted' && !textOnly()) await acquire();
    },
    toggleMute(): void {
      setMuted(!muted());
      const t = tracks().audio;
      if (t) enable('audio', t);
    },
    toggleCamera(): void {
      setCameraOff(!cameraOff());
      const t = tracks().video;
      if (t) enable('video', t);
    },
    chooseTextOnly(on: boolean): void {
      setTextOnly(on);
      if (on) stopAll();
    },
  };
  return store satisfies LocalMediaSource;
}

export type MediaStore = ReturnType<typeof createMediaStore>;
