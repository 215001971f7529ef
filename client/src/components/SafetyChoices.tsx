/** The front page's choices about what reaches whom: text safety (README "Text safety") and IP privacy (README "Video"). */
import { Show, type JSX } from 'solid-js';

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
      <Show when={props.privacyOffered}>
        <fieldset class="safety">
          <legend>In video</legend>
          <Check name="privacy" checked={props.privacy} onChange={props.onPrivacy}>
            Hide my IP address from the people I talk to <span class="optional">(video goes through our relay server)</span>
          </Check>
        </fieldset>
      </Show>
    </>
  );
}
