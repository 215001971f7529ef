/**
 * The live picture, asked for every 3 s (the server builds one snapshot every ~2 s and shares it
 * between viewers, so polling faster would only show the same numbers again).
 */
import { Show } from 'solid-js';
import { Breakers } from '../parts/Breakers';
import { Chart } from '../parts/Chart';
import { CountTable } from '../parts/CountTable';
import { Failure } from '../parts/Failure';
import { PoolTable } from '../parts/PoolTable';
import { Stat } from '../parts/Stat';
import { createPoll } from '../poll';
import { ms, num, seconds, when } from '../format';
import { useConsole } from '../store';

const REFRESH_MS = 3000;

export default function Overview() {
  const { api } = useConsole();
  const poll = createPoll(() => api.call('admin.overview'), REFRESH_MS);
  const switchesOn = () => {
    const s = poll.data()?.switches;
    if (!s) return '—';
    const on = [s.stopMatching && 'matching stopped', s.textOnly && 'text only', s.tightLimits && 'tight limits'].filter(Boolean);
    return on.length ? on.join(', ') : 'All off';
  };
  return (
    <>
      <p class="help" aria-live="off" data-testid="overview-at">
        <Show when={poll.data()} fallback="Loading...">
          {(o) => <>As of {when(o().at)}, refreshed every 3 seconds.</>}
        </Show>
      </p>
      <Failure error={poll.error()} />
      <Show when={poll.data()}>
        {(o) => (
          <>
            <dl class="stats">
              <Stat label="Online" value={num(o().online)} testid="stat-online" />
              <Stat label="Queue depth" value={num(o().pools.reduce((n, p) => n + p.queueDepth, 0))} testid="stat-queue" />
              <Stat label="Wait p50" value={ms(o().waitP50Ms)} testid="stat-wait-p50" />
              <Stat label="Wait p95" value={ms(o().waitP95Ms)} testid="stat-wait-p95" />
              <Stat label="Matches per minute" value={num(o().matchesPerMinute)} testid="stat-matches" />
              <Stat label="Average call" value={seconds(o().avgCallSeconds)} testid="stat-avg-call" />
              <Stat label="Audit lag" value={seconds(o().auditLagSeconds)} testid="stat-audit-lag" />
              <Stat label="Dead letters" value={num(o().deadLetters)} testid="stat-dead-letters" tone={o().deadLetters ? 'bad' : undefined} />
              <Stat label="Kill switches" value={switchesOn()} testid="stat-switches" tone={switchesOn() === 'All off' ? undefined : 'bad'} />
            </dl>
            <div class="charts">
              <Chart
                title="People online and waiting, per minute (last hour)"
                testid="chart-people"
                t={o().series.t}
                series={[
                  { label: 'Online', values: o().series.online },
                  { label: 'Waiting', values: o().series.waiting },
                ]}
              />
              <Chart
                title="Matches made, per minute (last hour)"
                testid="chart-matches"
                t={o().series.t}
                series={[{ label: 'Matches', values: o().series.matches }]}
              />
            </div>
            <PoolTable pools={o().pools} />
            <div class="columns">
              <Breakers breakers={o().breakers} />
              <section class="card panel" aria-label="Errors">
                <CountTable caption="Errors by category, last 5 minutes" counts={o().errorsByCategory} testid="errors-by-category" empty="No errors." />
              </section>
            </div>
          </>
        )}
      </Show>
    </>
  );
}
