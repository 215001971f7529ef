/**
 * Interests as chips: type one and press Enter or a comma to add it, x to remove it. Leaving the
 * box (as clicking Start does) adds what was typed, so nothing typed is lost.
 */
import { For, Show, createSignal } from 'solid-js';
import { MAX_INTERESTS, addInterests } from '../lib/validate';

export function InterestChips(props: { value: string[]; onChange: (v: string[]) => void }) {
  const [text, setText] = createSignal('');
  const [error, setError] = createSignal('');

  const flush = () => {
    if (!text().trim()) return setError('');
    const r = addInterests(props.value, text());
    props.onChange(r.interests);
    setError(r.error ?? '');
    if (!r.error) setText('');
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' || e.key === ',') {
      e.preventDefault();
      flush();
    } else if (e.key === 'Backspace' && !text() && props.value.length) props.onChange(props.value.slice(0, -1));
  };

  return (
    <div class="interests">
      <label for="interest-input">
        Add an interest <span class="optional">(optional, up to {MAX_INTERESTS})</span>
      </label>
      <div class="chip-box">
        <ul class="chips" aria-label="Your interests">
          <For each={props.value}>
            {(tag) => (
              <li class="chip" data-testid="interest-chip">
                {tag}
                <button type="button" class="chip-remove" aria-label={`Remove ${tag}`} onClick={() => props.onChange(props.value.filter((t) => t !== tag))}>
                  ×
                </button>
              </li>
            )}
          </For>
        </ul>
        <input
          id="interest-input"
          type="text"
          data-testid="interest-input"
          placeholder={props.value.length ? '' : 'music, films, travel'}
          maxLength={60}
          autocomplete="off"
          enterkeyhint="done"
          value={text()}
          disabled={props.value.length >= MAX_INTERESTS}
          aria-describedby="interest-help"
          aria-invalid={!!error()}
          onInput={(e) => {
            setText(e.currentTarget.value);
            if (text().includes(',')) flush();
          }}
          onKeyDown={onKey}
          onBlur={() => flush()}
        />
      </div>
      <Show
        when={error()}
        fallback={
          <p id="interest-help" class="help">
            Press Enter or a comma after each one. We match you with people who share them.
          </p>
        }
      >
        <p id="interest-help" class="help error" role="alert">
          {error()}
        </p>
      </Show>
    </div>
  );
}
