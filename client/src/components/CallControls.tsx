/**
 * The call's controls, in reach of a thumb on a phone: mute, camera on/off, device pickers,
 * then Skip (Esc) and End. Mute and camera only disable the track (aria-pressed says so):
 * nothing is renegotiated, and they come back at once.
 */
import { Show, createSignal } from 'solid-js';
import { useStores } from '../stores/context';
import { DevicePickers } from './DevicePickers';
import { Icon } from './Icon';

export function CallControls() {
  const { actions, media } = useStores();
  const [devicesOpen, setDevicesOpen] = createSignal(false);
  return (
    <div class="controls" role="group" aria-label="Call controls">
      <Show when={devicesOpen()}>
        <div class="device-popover" id="device-popover" role="group" aria-label="Camera and microphone">
          <DevicePickers />
        </div>
      </Show>
      <div class="control-group">
        <button
          type="button"
          class="round"
          classList={{ off: media.muted() }}
          data-testid="mute"
          aria-pressed={media.muted()}
          aria-label="Mute microphone"
          title={media.muted() ? 'Unmute' : 'Mute'}
          disabled={!media.audioTrack()}
          onClick={() => media.toggleMute()}
        >
          <Icon name={media.muted() ? 'micOff' : 'mic'} />
        </button>
        <button
          type="button"
          class="round"
          classList={{ off: media.cameraOff() }}
          data-testid="camera"
          aria-pressed={media.cameraOff()}
          aria-label="Turn camera off"
          title={media.cameraOff() ? 'Turn camera on' : 'Turn camera off'}
          disabled={!media.videoTrack()}
          onClick={() => media.toggleCamera()}
        >
          <Icon name={media.cameraOff() ? 'camOff' : 'cam'} />
        </button>
        <button
          type="button"
          class="round"
          data-testid="devices"
          aria-label="Camera and microphone settings"
          title="Camera and microphone"
          aria-expanded={devicesOpen()}
          aria-controls="device-popover"
          disabled={!media.stream()}
          onClick={() => setDevicesOpen(!devicesOpen())}
        >
          <Icon name="tune" />
        </button>
      </div>
      <div class="control-group">
        <button
          type="button"
          class="pill"
          data-testid="skip"
          aria-keyshortcuts="Escape"
          title="Skip (Esc)"
          onClick={() => void actions.skip()}
          disabled={!!actions.busy()}
        >
          <Icon name="next" />
          Skip
        </button>
        <button type="button" class="pill end" data-testid="end" onClick={() => void actions.end()} disabled={!!actions.busy()}>
          <Icon name="end" />
          End
        </button>
      </div>
    </div>
  );
}
