/** One person: their live state, match and standing, what they may be done to, and their history. */
import { Show } from 'solid-js';
import { num, when } from '../format';
import { createPoll } from '../poll';
import { useConsole } from '../store';
import { Failure } from './Failure';
import { UserActions } from './UserActions';
import { UserHistory } from './UserHistory';

const REFRESH_MS = 5000;

export function UserDetail(props: { userId: string }) {
  const { api } = useConsole();
  const poll = createPoll(() => api.call('admin.userDetail', { userId: props.userId }), REFRESH_MS);
  return (
    <section class="card panel" aria-labelledby="user-h" data-testid="user-detail" data-user-id={props.userId}>
      <h2 id="user-h">
        Person <code>{props.userId}</code>
      </h2>
      <Failure error={poll.error()} />
      <Show when={poll.data()}>
        {(d) => (
          <>
            <dl class="facts">
              <dt>State</dt>
              <dd data-testid="user-state">{d().user?.state ?? 'Offline'}</dd>
              <dt>Pool</dt>
              <dd>{d().user?.pool ?? '—'}</dd>
              <dt>Match</dt>
              <dd data-testid="user-match">{d().user?.matchId ?? 'None'}</dd>
              <dt>Since</dt>
              <dd>{when(d().user?.lastStateChange)}</dd>
              <dt>Standing</dt>
              <dd data-testid="user-standing">
                {d().banned ? `Banned ${d().banned!.until === null ? 'for good' : `until ${when(d().banned!.until)}`}: ${d().banned!.reason}` : 'Not banned'}
                {d().lowTrust ? ' (low trust)' : ''}
              </dd>
              <dt>Reports</dt>
              <dd>
                {num(d().reportsAbout)} about them, {num(d().reportsBy)} by them
              </dd>
            </dl>
            <UserActions userId={props.userId} detail={d()} refresh={() => void poll.refresh()} />
            <UserHistory detail={d()} />
          </>
        )}
      </Show>
    </section>
  );
}
