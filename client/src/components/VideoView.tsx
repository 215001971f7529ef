/** A <video> showing a MediaStream; srcObject can only be set from code, hence the effect. */
import { createEffect } from 'solid-js';

export function VideoView(props: { stream: MediaStream | null; muted?: boolean; label: string; testId: string }) {
  let el!: HTMLVideoElement;
  createEffect(() => {
    const s = props.stream;
    if (el.srcObject !== s) el.srcObject = s;
    // Autoplay can be refused (e.g. sound without a click); the controls-free video then waits for the next stream.
    if (s) el.play().catch(() => null);
  });
  return (
    <figure class="video" classList={{ empty: !props.stream }}>
      <video ref={el} data-testid={props.testId} autoplay playsinline muted={props.muted} aria-label={props.label} />
      <figcaption>{props.label}</figcaption>
    </figure>
  );
}
