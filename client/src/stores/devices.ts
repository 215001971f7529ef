/**
 * Which cameras and microphones the browser can see, checked before each call and again
 * whenever devices change (`devicechange`), so problems are reported before they surprise anyone.
 */
import { createSignal } from 'solid-js';

export interface DeviceSummary {
  /** False where the browser offers no media devices at all (e.g. plain http on a LAN address). */
  supported: boolean;
  checked: boolean;
  cameras: number;
  microphones: number;
}

export function createDeviceStore() {
  const media = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
  const supported = !!media?.enumerateDevices && !!media.getUserMedia;
  const [devices, setDevices] = createSignal<DeviceSummary>({ supported, checked: !supported, cameras: 0, microphones: 0 });

  async function refresh(): Promise<DeviceSummary> {
    if (!supported || !media) return devices();
    try {
      const list = await media.enumerateDevices();
      const summary = {
        supported,
        checked: true,
        cameras: list.filter((d) => d.kind === 'videoinput').length,
        microphones: list.filter((d) => d.kind === 'audioinput').length,
      };
      setDevices(summary);
      return summary;
    } catch {
      // Listing failed: assume nothing rather than promise a camera we can't see.
      const summary = { supported, checked: true, cameras: 0, microphones: 0 };
      setDevices(summary);
      return summary;
    }
  }

  media?.addEventListener('devicechange', () => void refresh());
  void refresh();

  /** The device situation in plain words ('' until checked). */
  function report(): string {
    const d = devices();
    if (!d.supported) return "Video isn't available in this browser here; you can still chat by text.";
    if (!d.checked) return '';
    if (d.cameras === 0 && d.microphones === 0) return 'No camera or microphone found; you can still chat by text.';
    if (d.cameras === 0) return 'No camera found; your partner will only hear you.';
    if (d.microphones === 0) return 'No microphone found; your partner will only see you.';
    return 'Camera and microphone found.';
  }

  return { devices, refresh, report };
}

export type DeviceStore = ReturnType<typeof createDeviceStore>;
