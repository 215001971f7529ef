/** The front page: optional name and interests, the text-safety choices, and the Start button. */
import { createSignal } from 'solid-js';
import { checkName, parseInterests } from '../lib/validate';
import { useStores } from '../stores/context';

export default function Landing() {
  const { actions, devices, notices, session } = useStores();
  const [name, setName] = createSignal(session.chosenName());
  const [interests, setInterests] = createSignal('');
  // Text safety (README): the server's defaults, contacts hidden and the word filter on.
  const [allowContacts, setAllowContacts] = createSignal(false);
  const [profanityFilter, setProfanityFilter] = createSignal(true);

  const start = (e: SubmitEvent) => {
    e.preventDefault();
    const n = checkName(name());
    if ('error' in n) return void notices.error(n.error);
    const i = parseInterests(interests());
    if ('error' in i) return void notices.error(i.error);
    void actions.start({ name: n.name, interests: i.interests, chat: { allowContacts: allowContacts(), profanityFilter: profanityFilter() } });
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
