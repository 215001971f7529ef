/** The front page: optional name and interests, the text-safety choices, the age question and rules (asked once per device), and the Start button. */
import { For, createSignal, onMount } from 'solid-js';
import { loadAgeBracket, type AgeBracket } from '../api/session-token';
import { checkName, parseInterests } from '../lib/validate';
import { useStores } from '../stores/context';

const AGES: ReadonlyArray<{ value: AgeBracket; label: string }> = [
  { value: '18+', label: '18 or over' },
  { value: '13-17', label: '13 to 17' },
  { value: 'under-13', label: 'Under 13' },
];

export default function Landing() {
  const { actions, devices, notices, session } = useStores();
  const [name, setName] = createSignal(session.chosenName());
  const [interests, setInterests] = createSignal('');
  const remembered = loadAgeBracket();
  const [age, setAge] = createSignal<AgeBracket | null>(remembered);
  const [rules, setRules] = createSignal(remembered !== null);
  // Text safety (README): the server's defaults, contacts hidden and the word filter on.
  const [allowContacts, setAllowContacts] = createSignal(false);
  const [profanityFilter, setProfanityFilter] = createSignal(true);

  // Back on the front page (rarely, so a fine time to ask): tell the person once if a moderator acted on a report of theirs.
  onMount(() => {
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
    const i = parseInterests(interests());
    if ('error' in i) return void notices.error(i.error);
    const ageBracket = age();
    if (!ageBracket || !rules()) return void notices.error('Please tell us your age and accept the rules before you start.');
    void actions.start({ name: n.name, interests: i.interests, ageBracket, chat: { allowContacts: allowContacts(), profanityFilter: profanityFilter() } });
  };

  return (
    <main class="screen landing" data-testid="screen-landing">
      <h1>Rendezvous</h1>
      <p class="lead">Talk to someone new, one to one, by video or text.</p>
      <form class="start-form" onSubmit={start}>
        <label>
          Your name <span class="optional">(optional)</span>
          <input type="text" name="name" maxLength={32} autocomplete="nickname" value={name()} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Interests <span class="optional">(optional, separated by commas)</span>
          <input type="text" name="interests" placeholder="music, films, travel" value={interests()} onInput={(e) => setInterests(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" name="allowContacts" checked={allowContacts()} onChange={(e) => setAllowContacts(e.currentTarget.checked)} />
          Show links, e-mail addresses and phone numbers in chat <span class="optional">(only if your partner allows them too)</span>
        </label>
        <label class="check">
          <input type="checkbox" name="profanityFilter" checked={profanityFilter()} onChange={(e) => setProfanityFilter(e.currentTarget.checked)} />
          Hide offensive words in chat
        </label>
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
        <label class="choice rules">
          <input type="checkbox" name="rules" checked={rules()} onChange={(e) => setRules(e.currentTarget.checked)} />
          <span>
            I accept the rules: be kind, no nudity or sexual content, no harassment, hate or threats, no spam or scams, and no one under 18 unless this service
            says minors are welcome. Break them and you may be reported and banned.
          </span>
        </label>
        <button type="submit" class="primary big" data-testid="start" disabled={actions.busy() === 'start'} aria-busy={actions.busy() === 'start'}>
          Start
        </button>
      </form>
      <p class="hint" data-testid="device-status">
        {devices.report()}
      </p>
    </main>
  );
}
