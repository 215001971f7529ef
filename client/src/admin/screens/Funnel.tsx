/**
 * The connection funnel (LiveKit's dashboard has the same shape): matches made, first signal
 * relayed, call connected, per minute, with the matches that never connected ("missing"), ICE
 * failures and how many calls went through the TURN relay.
 */
import { Show, createSignal } from 'solid-js';
import { Chart } from '../parts/Chart';
import { Failure } from '../parts/Failure';
import { Stat } from '../parts/Stat';
import { createPoll } from '../poll';
import { num, share } from '../format';
import { useConsole } from '../store';

const REFRESH_MS = 10_000;
const WINDOWS = [15, 60, 180];

export default function Funnel() {
  const { api } = useConsole();
  const [minutes, setMinutes] = createSignal(60);
  const poll = createPoll(() => api.call('admin.funnel', { minutes: minutes() }), REFRESH_MS);
  const pick = (m: number) => {
    setMinutes(m);
    void poll.refresh();
  };
  return (
    <>
      <div class="toolbar">
        <label for="funnel-window">Window</label>
        <select id="funnel-window" data-testid="funnel-window" value={minutes()} onChange={(e) => pick(Number(e.currentTarget.value))}>
          {WINDOWS.map((m) => (
            <option value={m}>Last {m} minutes</option>
          ))}
        </select>
      </div>
      <Failure error={poll.error()} />
      <Show when={poll.data()}>
        {(f) => (
          <>
            <dl class="stats">
              <Stat label="Matched" value={num(f().totals.matched)} testid="funnel-matched" />
              <Stat label="Signalling" value={num(f().totals.signalling)} testid="funnel-signalling" />
              <Stat label="Connected" value={num(f().totals.connected)} testid="funnel-connected" />
              <Stat label="Missing" value={num(f().totals.missing)} testid="funnel-missing" />
              <Stat label="Missing share" value={share(f().totals.missingShare)} testid="funnel-missing-share" />
              <Stat label="ICE failures" value={num(f().totals.iceFailures)} testid="funnel-ice-failures" />
              <Stat label="Relayed share" value={share(f().totals.relayedShare)} testid="funnel-relayed-share" />
            </dl>
            <Chart
              title={`Matched, signalling, connected and missing, per minute (last ${minutes()} minutes)`}
              testid="chart-funnel"
              t={f().buckets.map((b) => b.t)}
              series={[
                { label: 'Matched', values: f().buckets.map((b) => b.matched) },
                { label: 'Signalling', values: f().buckets.map((b) => b.signalling) },
                { label: 'Connected', values: f().buckets.map((b) => b.connected) },
                { label: 'Missing', values: f().buckets.map((b) => b.missing) },
              ]}
            />
          </>
        )}
      </Show>
    </>
  );
}
