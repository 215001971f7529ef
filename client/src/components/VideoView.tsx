/** A <video> showing a MediaStream; srcObject can only be set from code, hence the effect. */
import { createEffect, onCleanup, onMount, type JSX } from 'solid-js';

export function VideoView(props: {
  stream: MediaStream | null;
  muted?: boolean;
  /** Our own picture, shown as in a mirror (what people expect of a self view). */
  mirrored?: boolean;
  label: string;
  testId: string;
  class?: string;
  /** The <video> element, for those that read its frames (the nudity shield). */
  videoRef?: (el: HTMLVideoElement) => void;
  children?: JSX.Element;
}) {
  let el!: HTMLVideoElement;
  onMount(() => props.videoRef?.(el));
  createEffect(() => {
    const s = props.stream;
    if (el.srcObject !== s) el.srcObject = s;
    // Autoplay can be refused (e.g. sound without a click); the controls-free video then waits for the next stream.
    if (s) el.play().catch(() => null);
  });
  // A <video> taken out of the page keeps playing its stream until it is garbage-collected, holding
  // camera frames all the while (with several of them the camera stalls for seconds): let go at once.
  onCleanup(() => {
    el.pause();
    el.srcObject = null;
  });
  return (
    <figure class={`video ${props.class ?? ''}`} classList={{ empty: !props.stream, mirrored: !!props.mirrored }}>
      <video ref={el} data-testid={props.testId} autoplay playsinline muted={props.muted} aria-label={props.label} />
      <figcaption>{props.label}</figcaption>
      {props.children}
    </figure>
  );
}
