/**
 * bench:presence — how fast Rendezvous notices a partner leaving.
 *   closeToNotify: a socket closes cleanly -> the partner receives `partner_reconnecting`.
 *   requeue:       the reconnect grace runs out -> the partner receives `requeued` (back in the queue).
 *   silentDetect:  a client goes silent (its socket stops reading and writing) -> the partner
 *                  receives `partner_reconnecting`, with the default keep-alive settings.
 * Runs a real server in-process against the shared Redis (unique prefix) and a fresh database.
 * Usage: npm run bench:presence -- --duration 20 [--pairs 200]
 * Ends with one JSON line: {"closeToNotifyP99Ms":..,"silentDetectMs":..,"requeueP99Ms":..}
 */
import { parseArgs } from 'node:util';
import { startTestApp } from '../tests/support/app';
import { connectUser, type TestUser } from '../tests/support/client';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '20' }, pairs: { type: 'string', default: '200' } } });
const durationS = Number(values.duration);
const pairs = Number(values.pairs);
const GRACE_MS = 1000; // shortened for the close/requeue rounds; the silent round uses the defaults

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
}

async function matchedPairs(url: string, n: number): Promise<Array<[TestUser, TestUser]>> {
  const out: Array<[TestUser, TestUser]> = [];
  for (let i = 0; i < n; i++) {
    const a = await connectUser(url);
    const b = await connectUser(url);
    await a.api.match.enqueue.mutate({});
    await b.api.match.enqueue.mutate({});
    await b.next('matched', undefined, 10_000);
    out.push([a, b]);
  }
  return out;
}

async function closeAndRequeue(deadline: number) {
  await using app = await startTestApp({ RECONNECT_GRACE_MS: String(GRACE_MS), LOG_LEVEL: 'silent' });
  const notify: number[] = [];
  const requeue: number[] = [];
  while (Date.now() < deadline && notify.length < pairs) {
    const batch = await matchedPairs(app.url, Math.min(50, pairs - notify.length));
    await Promise.all(
      batch.map(async ([a, b]) => {
        const t0 = performance.now();
        const before = b.events.length;
        const closed = a.close();
        const fresh = (e: { type: string }, i: number) => i >= before && e.type;
        const dropped = await b.next('partner_reconnecting', undefined, 10_000);
        notify.push(performance.now() - t0);
        await closed;
        await new Promise<void>((resolve, reject) => {
          const started = Date.now();
          const poll = () => {
            const hit = b.events.findIndex((e, i) => fresh(e.event, i) === 'requeued');
            if (hit >= 0) return resolve();
            if (Date.now() - started > 10_000) return reject(new Error('no requeued'));
            setTimeout(poll, 1);
          };
          poll();
        });
        // From the moment the grace ran out on the server (drop time + grace) to the partner holding `requeued`.
        requeue.push(Math.max(0, Date.now() - (dropped.at + GRACE_MS)));
        await b.close();
      }),
    );
  }
  return { notify, requeue };
}

async function silentDrop(): Promise<number> {
  await using app = await startTestApp({ LOG_LEVEL: 'silent' }); // default heartbeat and grace
  const [[a, b]] = (await matchedPairs(app.url, 1)) as [[TestUser, TestUser]];
  const t0 = performance.now();
  // Go silent: the client's socket neither reads nor writes any more (like a pulled cable).
  const sock = (a.ws.connection?.ws as unknown as { _socket?: { pause(): void; write(): boolean } })?._socket;
  if (!sock) throw new Error('no socket to silence');
  sock.pause();
  sock.write = () => true;
  await b.next('partner_reconnecting', undefined, 30_000);
  const ms = performance.now() - t0;
  await b.close();
  await a.close().catch(() => {});
  return ms;
}

const deadline = Date.now() + Math.max(5, durationS - 12) * 1000;
const { notify, requeue } = await closeAndRequeue(deadline);
const silentDetectMs = await silentDrop();
const result = {
  closeToNotifyP99Ms: +pct(notify, 99).toFixed(2),
  silentDetectMs: +silentDetectMs.toFixed(0),
  requeueP99Ms: +pct(requeue, 99).toFixed(2),
};
console.log(`pairs measured:                 ${notify.length}`);
console.log(`clean close -> partner told:    p50 ${pct(notify, 50).toFixed(2)} ms, p99 ${result.closeToNotifyP99Ms} ms`);
console.log(`grace over -> partner requeued: p50 ${pct(requeue, 50).toFixed(2)} ms, p99 ${result.requeueP99Ms} ms`);
console.log(`silent drop -> detected:        ${result.silentDetectMs} ms (defaults: keep-alive ping 3 s, pong wait 6 s)`);
console.log(JSON.stringify(result));
process.exit(0);
