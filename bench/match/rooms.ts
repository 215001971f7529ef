/**
 * How the benchmark's servers set up calls. `--livekit off` (the default) runs direct mode: the
 * `matched` events go out at once and no room is made. Other values are accepted and, for now,
 * mean the same: this is the one place the rooms domain adds the server settings of LiveKit mode
 * (for example the LiveKit test double's URL and keys), so `--livekit` already parses everywhere.
 */
export function roomsEnv(livekit: string): Record<string, string> {
  void livekit;
  return {};
}
