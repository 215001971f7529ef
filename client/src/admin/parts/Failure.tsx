/** A query's failure, in the server's words, beside whatever was last shown. */
import { Show } from 'solid-js';

export function Failure(props: { error: string | null; testid?: string }) {
  return (
    <Show when={props.error}>
      <p class="error" role="alert" data-testid={props.testid ?? 'load-error'}>
        {props.error}
      </p>
    </Show>
  );
}
