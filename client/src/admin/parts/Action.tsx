/**
 * One operator action: a button that opens a small form asking for what the API takes (a reason
 * where it takes one, fields passed as children, a typed confirmation for what cannot be undone),
 * then runs it. The server's sentence is shown when it refuses; on success the screen refreshes.
 *
 * Test ids: `<id>` opens, `<id>-reason`, `<id>-typed`, `<id>-confirm`, `<id>-cancel`, `<id>-error`, `<id>-done`.
 */
import { Show, createSignal, createUniqueId, type JSX } from 'solid-js';
import { messageOf } from '../api';
import { useConsole } from '../store';
import { TextField } from './TextField';

export interface ActionProps {
  label: string;
  testid: string;
  /** Ask for a reason (3 to 200 characters) and hand it to `run`. */
  reason?: boolean;
  /** The reason field's label when it is something else (a warning's message). */
  reasonLabel?: string;
  /** The person must type this word before the action runs (erase, permanent ban). */
  typed?: string;
  danger?: boolean;
  /** What the action does, said in the form before confirming. */
  warning?: string;
  run: (reason: string) => Promise<unknown>;
  done?: (result: unknown) => void;
  children?: JSX.Element;
}

export function Action(props: ActionProps) {
  const { noteRefusal } = useConsole();
  const id = createUniqueId();
  const [open, setOpen] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string | null>(null);
  const [done, setDone] = createSignal<string | null>(null);
  const [reason, setReason] = createSignal('');
  const [typed, setTyped] = createSignal('');
  // After Cancel the focus goes back to the button that opened the form (keyboard users stay in place).
  let refocus = false;
  const ready = () => (!props.reason || reason().trim().length >= 3) && (!props.typed || typed().trim() === props.typed);

  async function submit(e: SubmitEvent) {
    e.preventDefault();
    if (!ready() || busy()) return;
    setBusy(true);
    setError(null);
    try {
      const result = await props.run(reason().trim());
      // Before closing: the button that replaces the form takes the focus as it is created.
      refocus = true;
      setOpen(false);
      setReason('');
      setTyped('');
      setDone(`${props.label}: done.`);
      props.done?.(result);
    } catch (err) {
      noteRefusal(err);
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="action">
      <Show
        when={open()}
        fallback={
          <button
            type="button"
            class={props.danger ? 'small danger' : 'small'}
            data-testid={props.testid}
            ref={(el) => refocus && ((refocus = false), queueMicrotask(() => el.focus()))}
            onClick={() => (setDone(null), setOpen(true))}
          >
            {props.label}
          </button>
        }
      >
        <form
          class="action-form"
          ref={(el) => queueMicrotask(() => el.querySelector<HTMLElement>('input, select, button')?.focus())}
          data-testid={`${props.testid}-form`}
          aria-label={props.label}
          onSubmit={(e) => void submit(e)}
        >
          <p class="action-title">{props.label}</p>
          <Show when={props.warning}>
            <p class="help">{props.warning}</p>
          </Show>
          {props.children}
          <Show when={props.reason}>
            <TextField id={`${id}-reason`} label={props.reasonLabel ?? 'Reason'} testid={`${props.testid}-reason`} value={reason()} set={setReason} />
          </Show>
          <Show when={props.typed}>
            <TextField id={`${id}-typed`} label={`Type ${props.typed} to confirm`} testid={`${props.testid}-typed`} value={typed()} set={setTyped} />
          </Show>
          <div class="row">
            <button type="submit" class={props.danger ? 'small danger' : 'small primary'} disabled={!ready() || busy()} data-testid={`${props.testid}-confirm`}>
              Confirm: {props.label}
            </button>
            <button type="button" class="small quiet" data-testid={`${props.testid}-cancel`} onClick={() => ((refocus = true), setOpen(false), setError(null))}>
              Cancel
            </button>
          </div>
        </form>
      </Show>
      <Show when={error()}>
        <p class="error" role="alert" data-testid={`${props.testid}-error`}>
          {error()}
        </p>
      </Show>
      <Show when={done()}>
        <p class="done" role="status" data-testid={`${props.testid}-done`}>
          {done()}
        </p>
      </Show>
    </div>
  );
}
