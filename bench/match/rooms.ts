/**
 * How the benchmark's servers set up calls. `--livekit off` (the default) runs direct mode: the
 * `matched` events go out at once and no room is made. `--livekit double` starts the LiveKit test
 * double (tests/livekit-double, the real Twirp protocol over HTTP on loopback) in the bench
 * process and points the servers at it, so every match waits for CreateRoom and two tokens
 * before its `matched` events: the difference in enqueue->matched p99 between the two runs is
 * what room creation adds.
 */
import { startLiveKitDouble } from '../../tests/livekit-double';

export interface RoomsSetup {
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function roomsEnv(livekit: string): Promise<RoomsSetup> {
  if (livekit === 'off') return { env: {}, close: async () => {} };
  if (livekit !== 'double') throw new Error(`--livekit takes off or double, not ${livekit}`);
  const lk = await startLiveKitDouble();
  return {
    env: { LIVEKIT_URL: lk.url, LIVEKIT_API_KEY: lk.apiKey, LIVEKIT_API_SECRET: lk.apiSecret },
    close: () => lk.close(),
  };
}
