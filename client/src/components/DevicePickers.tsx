/** Camera and microphone pickers (switching keeps the call: the new track replaces the old one). */
import { For, Show } from 'solid-js';
import { useStores } from '../stores/context';
import { MicLevel } from './MicLevel';

export function DevicePickers() {
  const { media } = useStores();
  return (
    <div class="device-pickers">
      <Show when={media.cameras().length > 0}>
        <label>
          Camera
          <select data-testid="camera-select" value={media.cameraId()} onChange={(e) => void media.selectCamera(e.currentTarget.value)}>
            <For each={media.cameras()}>{(d) => <option value={d.id}>{d.label}</option>}</For>
          </select>
        </label>
      </Show>
      <Show when={media.microphones().length > 0}>
        <label>
          Microphone
          <select data-testid="mic-select" value={media.microphoneId()} onChange={(e) => void media.selectMicrophone(e.currentTarget.value)}>
            <For each={media.microphones()}>{(d) => <option value={d.id}>{d.label}</option>}</For>
          </select>
        </label>
        <MicLevel />
      </Show>
    </div>
  );
}
