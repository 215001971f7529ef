/** A message's text with its links clickable (new tab, no referrer, no follow); the rest stays text. */
import { For } from 'solid-js';
import { linkParts } from '../lib/links';

export function MessageText(props: { text: string }) {
  return (
    <span class="text">
      <For each={linkParts(props.text)}>
        {(p) =>
          p.href ? (
            <a href={p.href} target="_blank" rel="noopener noreferrer nofollow">
              {p.text}
            </a>
          ) : (
            p.text
          )
        }
      </For>
    </span>
  );
}
