/**
 * Reporting the partner: a reason, an optional note, a picture of their video only if the person
 * ticks the box (nothing leaves the page otherwise), and blocking them (on unless unticked).
 */
import { For, createSignal } from 'solid-js';
import { videoFrame } from '../lib/snapshot';
import type { ReportReason } from '../stores/match-actions';

const REASONS: ReadonlyArray<{ value: ReportReason; label: string }> = [
  { value: 'sexual', label: 'Nudity or sexual content' },
  { value: 'minor', label: 'Looks under 18' },
  { value: 'harassment', label: 'Harassment or hate' },
  { value: 'spam', label: 'Spam or scam' },
  { value: 'violence', label: 'Violence or self-harm' },
  { value: 'other', label: 'Something else' },
];

export function ReportPanel(props: {
  busy: boolean;
  onSubmit: (r: { reason: ReportReason; note: string; snapshot: string | null; block: boolean }) => void;
  onCancel: () => void;
}) {
  const [reason, setReason] = createSignal<ReportReason | null>(null);
  const [note, setNote] = createSignal('');
  const [picture, setPicture] = createSignal(false);
  const [block, setBlock] = createSignal(true);

  const submit = (e: SubmitEvent) => {
    e.preventDefault();
    const r = reason();
    if (!r) return;
    const video = document.querySelector<HTMLVideoElement>('[data-testid="remote-video"]');
    props.onSubmit({ reason: r, note: note(), snapshot: picture() ? videoFrame(video) : null, block: block() });
  };

  return (
    <form class="report-panel" data-testid="report-panel" onSubmit={submit} aria-label="Report your partner">
      <fieldset>
        <legend>What is wrong?</legend>
        <For each={REASONS}>
          {(r) => (
            <label class="choice">
              <input type="radio" name="reason" value={r.value} checked={reason() === r.value} onChange={() => setReason(r.value)} />
              {r.label}
            </label>
          )}
        </For>
      </fieldset>
      <label>
        Anything to add? <span class="optional">(optional)</span>
        <textarea name="note" maxLength={500} rows={2} value={note()} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <label class="choice">
        <input type="checkbox" name="picture" checked={picture()} onChange={(e) => setPicture(e.currentTarget.checked)} />
        Attach a picture of their video for the moderators
      </label>
      <label class="choice">
        <input type="checkbox" name="block" checked={block()} onChange={(e) => setBlock(e.currentTarget.checked)} />
        Also block them
      </label>
      <div class="actions">
        <button type="submit" class="danger" data-testid="report-send" disabled={!reason() || props.busy}>
          Send report
        </button>
        <button type="button" onClick={() => props.onCancel()}>
          Cancel
        </button>
      </div>
    </form>
  );
}
