/**
 * The front page: what this is, how many are online, the camera preview (asked for before
 * queueing, or text only by choice), name, interests, language and region, the text-safety,
 * nudity-shield and IP-privacy choices, the age question and rules (asked once per device), and Start.
 */
import { For, createEffect, createSignal, onMount, untrack } from 'solid-js';
import { loadAgeBracket, type AgeBracket } from '../api/session-token';
import { CameraPreview } from '../components/CameraPreview';
import { InterestChips } from '../components/InterestChips';
import { OnlineCount } from '../components/OnlineCount';
import { PoolSelects } from '../components/PoolSelects';
import { SafetyChoices } from '../components/SafetyChoices';
import { checkName } from '../lib/validate';
import { useStores } from '../stores/context';

const AGES: ReadonlyArray<{ value: AgeBracket; label: string }> = [
  { value: '18+', label: '18 or over' },
  { value: '13-17', label: '13 to 17' },
  { value: 'under-13', label: 'Under 13' },
];

export default function Landing() {
  const { actions, media, notices, prefs, session } = useStores();
  const [name, setName] = createSignal(session.chosenName());
  const remembered = loadAgeBracket();
  const [age, setAge] = createSignal<AgeBracket | null>(remembered);
  const [rules, setRules] = createSignal(remembered !== null);
  // Text safety (README): the server's defaults, contacts hidden and the word filter on.
  const [allowContacts, setAllowContacts] = createSignal(false);
  const [profanityFilter, setProfanityFilter] = createSignal(true);

  // The age answer and the rules, once given, go into the session at once (not when Start is pressed).
  createEffect(() => {
    const a = age();
    if (!a || !rules()) return;
    untrack(() => {
      const n = checkName(name());
      actions.prepare('name' in n ? n.name : '', a);
    });
  });

  onMount(() => {
    void media.resume();
    // Back on the front page (rarely, so a fine time to ask): tell the person once if a moderator acted on a report of theirs.
    if (!session.user()) return;
    session.newlyActioned().then(
      (n) => n > 0 && notices.show(n === 1 ? 'A moderator acted on your report. Thank you.' : 'A moderator acted on your reports. Thank you.'),
      () => undefined,
    );
  });

  const start = (e: SubmitEvent) => {
    e.preventDefault();
    const n = checkName(name());
    if ('error' in n) return void notices.error(n.error);
    const ageBracket = age();
    if (!ageBracket || !rules()) return void notices.error('Please tell us your age and accept the rules before you start.');
    // actions.start asks for the camera before queueing, so a match never waits on a permission
    // prompt. Refused or missing, the person still chats by text, and the chat screen says why.
    void actions.start({
      name: n.name,
      interests: prefs.interests(),
      ageBracket,
      chat: { allowContacts: allowContacts(), profanityFilter: profanityFilter() },
      privacy: prefs.privacy(),
      language: prefs.language() ?? undefined,
      region: prefs.region() ?? undefined,
      textOnly: media.textOnly(),
    });
  };

  return (
    <main class="screen landing" data-testid="screen-landing">
      <header class="hero">
        <p class="brand">Rendezvous</p>
        <h1>Talk to someone new, face to face.</h1>
        <p class="lead">Random one-to-one video chat with a stranger, or text if you prefer. Skip any time.</p>
        <OnlineCount />
      </header>
      <div class="landing-grid">
        <div>
          <CameraPreview />
          <ol class="how" aria-label="How it works">
            <li>
              <span>
                <strong>Allow your camera</strong>, or choose text only. Nothing is sent until you press Start.
              </span>
            </li>
            <li>
              <span>
                <strong>Press Start</strong> and we pair you with one person, by shared interests when we can.
              </span>
            </li>
            <li>
              <span>
                <strong>Skip any time</strong> (Esc). Report or block anyone who breaks the rules.
              </span>
            </li>
          </ol>
        </div>
        <form class="start-form card" onSubmit={start} aria-label="Start chatting">
          <label>
            <span>
              Your name <span class="optional">(optional)</span>
            </span>
            <input type="text" name="name" maxLength={32} autocomplete="nickname" value={name()} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <InterestChips value={prefs.interests()} onChange={prefs.setInterests} />
          <PoolSelects language={prefs.language()} region={prefs.region()} onLanguage={prefs.setLanguage} onRegion={prefs.setRegion} />
          <SafetyChoices
            allowContacts={allowContacts()}
            onAllowContacts={setAllowContacts}
            profanityFilter={profanityFilter()}
            onProfanityFilter={setProfanityFilter}
            privacyOffered={session.user()?.relay === true}
            privacy={prefs.privacy()}
            onPrivacy={prefs.setPrivacy}
            shield={prefs.shield()}
            onShield={prefs.setShield}
          />
          <fieldset class="age">
            <legend>How old are you?</legend>
            <For each={AGES}>
              {(a) => (
                <label class="choice">
                  <input type="radio" name="age" value={a.value} checked={age() === a.value} onChange={() => setAge(a.value)} />
                  {a.label}
                </label>
              )}
            </For>
          </fieldset>
          <label class="check rules">
            <input type="checkbox" name="rules" checked={rules()} onChange={(e) => setRules(e.currentTarget.checked)} />
            <span>
              I accept the rules: be kind, no nudity or sexual content, no harassment, hate or threats, no spam or scams, and no one under 18 unless this
              service says minors are welcome. Break them and you may be reported and banned.
            </span>
          </label>
          <button
            type="submit"
            class="primary big"
            data-testid="start"
            disabled={actions.busy() === 'start' || media.acquiring()}
            aria-busy={actions.busy() === 'start'}
          >
            Start
          </button>
        </form>
      </div>
    </main>
  );
}
