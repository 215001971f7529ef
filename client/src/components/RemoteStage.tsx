/**
 * The big picture: the partner's video, or, when they send none, their name and "text only"
 * (never a blank box). A dropped partner greys the picture at once with "Reconnecting...".
 * Our own picture sits in a corner, mirrored.
 */
import { Show } from 'solid-js';
import { useStores } from '../stores/context';
import { VideoView } from './VideoView';

export function RemoteStage(props: { partner: string; reconnecting: boolean }) {
  const { call, media } = useStores();
  const phase = () => call.phase();
  const hasVideo = () => (call.remoteStream()?.getVideoTracks().length ?? 0) > 0;
  const textOnly = () => call.partnerMedia()?.video === false || phase() === 'text-only' || (phase() === 'connected' && !hasVideo());
  const selfStream = () => (media.videoTrack() && !media.cameraOff() ? media.stream() : null);
  // Their camera is off but we still hear them: not "text only".
  const note = () => (!textOnly() ? 'Connecting video...' : call.partnerMedia()?.audio && call.partnerMedia()?.video === false ? 'camera off' : 'text only');
  const initial = () => props.partner.trim().charAt(0).toUpperCase() || '?';

  return (
    <section class="stage" classList={{ greyed: props.reconnecting }} aria-label="Video">
      <VideoView stream={call.remoteStream()} label={props.partner} testId="remote-video" class="remote">
        <Show when={textOnly() || !hasVideo()}>
          <div class="partner-card" data-testid={textOnly() ? 'partner-text-only' : undefined}>
            <span class="avatar" aria-hidden="true">
              {initial()}
            </span>
            <p class="partner-card-name">{props.partner}</p>
            <p class="partner-card-note">{note()}</p>
          </div>
        </Show>
        <Show when={call.partnerMedia()?.audio === false && !textOnly()}>
          <span class="partner-muted" data-testid="partner-muted">
            {props.partner} is muted
          </span>
        </Show>
        <Show when={props.reconnecting}>
          <div class="reconnecting" data-testid="partner-reconnecting" role="status">
            <span class="spinner" aria-hidden="true" />
            Reconnecting...
          </div>
        </Show>
      </VideoView>
      <VideoView stream={selfStream()} muted mirrored label="You" testId="local-video" class="self">
        <Show when={!selfStream()}>
          <span class="self-off">{media.lost().includes('video') ? 'No camera' : 'Camera off'}</span>
        </Show>
      </VideoView>
    </section>
  );
}
