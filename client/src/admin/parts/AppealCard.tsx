/** One open appeal against a ban and, for moderators, uphold (the ban is lifted) or deny. */
import { Show } from 'solid-js';
import type { OutputOf } from '../api';
import { when } from '../format';
import { useConsole } from '../store';
import { Action } from './Action';

type Appeal = OutputOf<'admin.moderation.appeals'>[number];

export function AppealCard(props: { appeal: Appeal; refresh: () => void }) {
  const { api, can } = useConsole();
  const a = () => props.appeal;
  return (
    <li class="card panel" data-testid="appeal" data-appeal-id={a().id}>
      <h3>
        Appeal by <code>{a().userId}</code>
      </h3>
      <p class="help">
        {when(a().at)}, against ban <code>{a().receiptId}</code>
      </p>
      <blockquote>{a().text}</blockquote>
      <Show when={can('moderator')}>
        <div class="op-actions" role="group" aria-label="Decide this appeal">
          <Action
            label="Uphold (lift the ban)"
            testid="appeal-uphold"
            reason
            run={(reason) => api.call('admin.moderation.decideAppeal', { appealId: a().id, upheld: true, reason })}
            done={props.refresh}
          />
          <Action
            label="Deny"
            testid="appeal-deny"
            danger
            reason
            run={(reason) => api.call('admin.moderation.decideAppeal', { appealId: a().id, upheld: false, reason })}
            done={props.refresh}
          />
        </div>
      </Show>
    </li>
  );
}
