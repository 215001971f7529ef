/** Injected time: production uses the wall clock, tests may pass their own. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
