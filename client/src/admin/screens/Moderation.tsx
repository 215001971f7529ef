/** The report queue, most urgent first (as the server orders it), and the open appeals. */
import { For } from 'solid-js';
import { AppealCard } from '../parts/AppealCard';
import { Failure } from '../parts/Failure';
import { ReportCard } from '../parts/ReportCard';
import { createPoll } from '../poll';
import { useConsole } from '../store';

const REFRESH_MS = 10_000;

export default function Moderation() {
  const { api } = useConsole();
  const reports = createPoll(() => api.call('admin.moderation.reports', { limit: 50 }), REFRESH_MS);
  const appeals = createPoll(() => api.call('admin.moderation.appeals', { limit: 50 }), REFRESH_MS);
  return (
    <>
      <section aria-labelledby="reports-h">
        <h2 id="reports-h">Open reports ({reports.data()?.length ?? '…'})</h2>
        <Failure error={reports.error()} />
        <ol class="plain cards" data-testid="reports">
          <For each={reports.data()} fallback={<li>No open reports.</li>}>
            {(r) => <ReportCard report={r} refresh={() => void reports.refresh()} />}
          </For>
        </ol>
      </section>
      <section aria-labelledby="appeals-h">
        <h2 id="appeals-h">Open appeals ({appeals.data()?.length ?? '…'})</h2>
        <Failure error={appeals.error()} />
        <ol class="plain cards" data-testid="appeals">
          <For each={appeals.data()} fallback={<li>No open appeals.</li>}>
            {(a) => <AppealCard appeal={a} refresh={() => void appeals.refresh()} />}
          </For>
        </ol>
      </section>
    </>
  );
}
