/**
 * LiveKit failures, under load, on the LiveKit test double: every RoomService call answered with
 * a 500, held past the call timeout, or its connection dropped without an answer. New matches must
 * keep working (rolled back to the queue, then direct mode once the LiveKit breaker opens), and
 * once LiveKit answers again a new match must get a LiveKit room again (the probe checks that).
 */
import type { LiveKitDouble } from '../../livekit-double';
import { runChaos } from '../lib/run';
import { startInProcess } from '../lib/systems';
import type { ScenarioOptions, ScenarioResult } from '../lib/types';
import { scaled } from './scale';

const FULL_MS = 20_000;
const FLOOR_MS = 2000;
// Far beyond LIVEKIT_CALL_TIMEOUT_MS (300 ms in the chaos settings): every call times out.
const HOLD_MS = 5000;

type Mode = '500' | 'timeout' | 'drop';
const LABEL: Record<Mode, string> = { '500': 'LiveKit answering 500', timeout: 'LiveKit timing out', drop: 'LiveKit dropping connections' };

function inject(lk: LiveKitDouble, mode: Mode): void {
  if (mode === '500') lk.failAlways('*', 500);
  else if (mode === 'timeout') lk.delay('*', HOLD_MS);
  else lk.dropAlways('*');
}

export async function livekitFailing(mode: Mode, o: ScenarioOptions): Promise<ScenarioResult> {
  await using sys = await startInProcess({ livekit: true });
  const lk = sys.livekitDouble!;
  return await runChaos(
    sys,
    {
      failure: LABEL[mode],
      trips: ['livekit'],
      outageMs: scaled(FULL_MS, o.durationScale, FLOOR_MS),
      async inject(ctx) {
        ctx.stats.roomsBefore = lk.calls('CreateRoom');
        inject(lk, mode);
      },
      async heal(ctx) {
        ctx.stats.createRoomCallsInFault = lk.calls('CreateRoom') - ctx.stats.roomsBefore!;
        lk.clearFaults();
      },
    },
    o,
  );
}
