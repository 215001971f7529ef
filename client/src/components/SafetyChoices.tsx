/**
 * The front page's choices about what reaches whom: text safety (README "Text safety"), the
 * nudity shield over the partner's video (README "The web client") and IP privacy (README "Video").
 */
import { For, Show, type JSX } from 'solid-js';
import type { ShieldMode } from '../shield/policy';

const SHIELD_CHOICES: ReadonlyArray<{ value: ShieldMode; label: string }> = [
  { value: 'on', label: 'Blurred until it looks safe' },
  { value: 'always', label: 'Always blurred until I tap "Show"' },
  { value: 'off', label: 'Never blurred' },
];

function Check(props: { name: string; checked: boolean; onChange: (checked: boolean) => void; children: JSX.Element }) {
  return (
    <label class="check">
      <input type="checkbox" name={props.name} checked={props.checked} onChange={(e) => props.onChange(e.currentTarget.checked)} />
      <span>{props.children}</span>
    </label>
  );
}

export function SafetyChoices(props: {
  allowContacts: boolean;
  onAllowContacts: (v: boolean) => void;
  profanityFilter: boolean;
  onProfanityFilter: (v: boolean) => void;
  /** The server relays calls (TURN): only then is hiding one's address a choice that does anything. */
  privacyOffered: boolean;
  privacy: boolean;
  onPrivacy: (v: boolean) => void;
  shield: ShieldMode;
  onShield: (v: ShieldMode) => void;
}) {
  return (
    <>
      <fieldset class="safety">
        <legend>In chat</legend>
        <Check name="allowContacts" checked={props.allowContacts} onChange={props.onAllowContacts}>
          Show links, e-mail addresses and phone numbers <span class="optional">(only if your partner allows them too)</span>
        </Check>
        <Check name="profanityFilter" checked={props.profanityFilter} onChange={props.onProfanityFilter}>
          Hide offensive words
        </Check>
      </fieldset>
      <fieldset class="safety">
        <legend>In video</legend>
        <label class="shield-choice">
          <span>
            Your partner's video <span class="optional">(checked on your device, nothing is sent)</span>
          </span>
          <select name="shield" data-testid="shield-mode" value={props.shield} onChange={(e) => props.onShield(e.currentTarget.value as ShieldMode)}>
            <For each={SHIELD_CHOICES}>{(c) => <option value={c.value}>{c.label}</option>}</For>
          </select>
        </label>
        <Show when={props.privacyOffered}>
          <Check name="privacy" checked={props.privacy} onChange={props.onPrivacy}>
            Hide my IP address from the people I talk to <span class="optional">(video goes through our relay server)</span>
          </Check>
        </Show>
      </fieldset>
    </>
  );
}
