/**
 * The big picture: the partner's video, or, when they send none, their name and "text only"
 * (never a blank box). A dropped partner greys the picture at once with "Reconnecting...".
 * Our own picture sits in a corner, mirrored. The nudity shield (shield/) blurs the partner's
 * video until sampled frames look safe, as the person chose on the front page.
 */
import { Show, createSignal } from 'solid-js';
import { createShield } from '../shield/shield';
import { useStores } from '../stores/context';
import { ShieldCover } from './ShieldCover';
import { VideoView } from './VideoView';

export function RemoteStage(props: { partner: string; reconnecting: boolean; onReport: (flagged: string | null) => void }) {
  const { call, match, media, prefs, shieldClassifier } = useStores();
  const [video, setVideo] = createSignal<HTMLVideoElement>();
  const shield = createShield({ mode: prefs.shield, video, partner: () => match.match()?.matchId, classifier: shieldClassifier });
  const phase = () => call.phase();
  const hasVideo = () => (call.remoteStream()?.getVideoTracks().length ?? 0) > 0;
  const textOnly = () => call.partnerMedia()?.video === false || phase() === 'text-only' || (phase() === 'connected' && !hasVideo());
  const selfStream = () => (media.videoTrack() && !media.cameraOff() ? media.stream() : null);
  // Their camera is off but we still hear them: not "text only".
  const note = () => (!textOnly() ? 'Connecting video...' : call.partnerMedia()?.audio && call.partnerMedia()?.video === false ? 'camera off' : 'text only');
  const initial = () => props.partner.trim().charAt(0).toUpperCase() || '?';

  return (
    <section class="stage" classList={{ greyed: props.reconnecting }} aria-label="Video" data-shield={shield.blurred() ? 'blurred' : 'clear'}>
      <VideoView stream={call.remoteStream()} label={props.partner} testId="remote-video" class="remote" videoRef={setVideo}>
        <Show when={hasVideo() && !textOnly()}>
          <ShieldCover shield={shield} mode={prefs.shield()} onReport={() => props.onReport(shield.flagged())} />
        </Show>
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
