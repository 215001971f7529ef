/**
 * TEMPORARY (issue 19): the parameter the current call store (stores/call.ts) takes. The media
 * store (stores/media.ts) replaced the device store; stores/pending.ts adapts it to this shape.
 * Delete this file with pending.ts when the lead's call store takes the media store.
 */
export interface DeviceSummary {
  supported: boolean;
  checked: boolean;
  cameras: number;
  microphones: number;
}

export interface DeviceStore {
  refresh(): Promise<DeviceSummary>;
}
