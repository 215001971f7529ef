/**
 * Solving the server's proof-of-work challenge (CHALLENGE_REQUIRED, README "Challenges") with
 * altcha-lib's solver in Web Workers, so the page stays responsive while it works. Bounded: a
 * challenge not solved within SOLVE_TIMEOUT_MS fails with a sentence rather than spinning.
 */
import { solveChallengeWorkers, type Challenge } from 'altcha-lib';
import type { AltchaPayload } from '../../../server/safety/challenges';

// Well past what the server's work takes on a slow phone (a second or two), and under the challenge's expiry.
const SOLVE_TIMEOUT_MS = 60_000;
// Two workers halve the wait on any phone or laptop without taking the whole machine.
const MAX_WORKERS = 2;

export async function solveAltcha(challenge: Challenge): Promise<AltchaPayload> {
  const solution = await solveChallengeWorkers({
    challenge,
    concurrency: Math.max(1, Math.min(MAX_WORKERS, navigator.hardwareConcurrency || 1)),
    createWorker: () => new Worker(new URL('./altcha-worker.ts', import.meta.url), { type: 'module' }),
    timeout: SOLVE_TIMEOUT_MS,
  });
  if (!solution) throw new Error("We couldn't check your browser in time. Please reload the page and try again.");
  return { challenge: { parameters: { ...challenge.parameters, algorithm: 'SHA-256' }, signature: challenge.signature ?? '' }, solution };
}
