/**
 * Proof-of-work challenges on the real services: each trigger (new sessions from one address,
 * skipping far above normal, repeated rate-limit refusals) makes the next call answer
 * CHALLENGE_REQUIRED with an ALTCHA challenge; a correct solution lets the call through and
 * clears the caller for a while; a wrong, expired or reused one is refused.
 */
import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { describe, expect, it } from 'vitest';
import type { AltchaPayload } from '../../server/safety/challenges';
import { startTestApp } from '../support/app';
import { ADULT, connectUser, httpClient, refusal } from '../support/client';

// Tiny work: the tests prove the protocol, not the cost.
const CHEAP = { CHALLENGE_WORK: '200' };

type Refusal = { appCode: string; details: { challenge?: Challenge; why?: string } };

/** The challenge a refusal carried (it must be CHALLENGE_REQUIRED). */
async function challengeOf(call: Promise<unknown>): Promise<Challenge> {
  const { message, data } = await refusal<Refusal>(call);
  expect(data.appCode).toBe('CHALLENGE_REQUIRED');
  expect(message).toMatch(/check your browser/);
  return data.details.challenge!;
}

/** Solved as a browser would (the library's solver). */
async function solve(challenge: Challenge): Promise<AltchaPayload> {
  const solution = await solveChallenge({ challenge, deriveKey });
  expect(solution).not.toBeNull();
  return { challenge: { parameters: { ...challenge.parameters, algorithm: 'SHA-256' }, signature: challenge.signature! }, solution: solution! };
}

describe('proof-of-work challenges', () => {
  it('new sessions from one address past the soft threshold ask for a challenge; a solution lets the session through and clears the address', async () => {
    await using app = await startTestApp({ ...CHEAP, RATE_SESSIONS_PER_IP: '100/1m', CHALLENGE_SESSIONS_PER_IP: '2/1m' });
    const api = httpClient(app.url);
    for (let i = 0; i < 2; i++) await api.session.create.mutate({ consent: ADULT });
    const challenge = await challengeOf(api.session.create.mutate({ consent: ADULT }));
    expect(challenge.parameters.algorithm).toBe('SHA-256');
    const altcha = await solve(challenge);
    await expect(api.session.create.mutate({ consent: ADULT, altcha })).resolves.toMatchObject({ token: expect.any(String) });
    // Cleared for CHALLENGE_PASS_MS: no challenge for the next ones.
    await expect(api.session.create.mutate({ consent: ADULT })).resolves.toMatchObject({ token: expect.any(String) });
  });

  it('with the threshold higher, the same sessions need no challenge', async () => {
    await using app = await startTestApp({ ...CHEAP, CHALLENGE_SESSIONS_PER_IP: '5/1m' });
    const api = httpClient(app.url);
    for (let i = 0; i < 4; i++) await api.session.create.mutate({ consent: ADULT });
  });

  it('a wrong solution, a forged challenge and a reused solution are refused', async () => {
    await using app = await startTestApp({ ...CHEAP, CHALLENGE_SESSIONS_PER_IP: '1/1m', CHALLENGE_PASS_MS: '1' });
    const api = httpClient(app.url);
    await api.session.create.mutate({ consent: ADULT });
    const altcha = await solve(await challengeOf(api.session.create.mutate({ consent: ADULT })));
    // The solution is the derived key (the server checks it against the key's signature in the challenge).
    const wrong = { ...altcha, solution: { ...altcha.solution, derivedKey: 'ab'.repeat(32) } };
    expect((await refusal<Refusal>(api.session.create.mutate({ consent: ADULT, altcha: wrong }))).data).toMatchObject({
      appCode: 'CHALLENGE_FAILED',
      details: { why: 'invalid' },
    });
    // An easier challenge of the client's own making: its signature no longer matches.
    const forged = { ...altcha, challenge: { ...altcha.challenge, parameters: { ...altcha.challenge.parameters, keyPrefix: '00' } } };
    expect((await refusal<Refusal>(api.session.create.mutate({ consent: ADULT, altcha: forged }))).data).toMatchObject({
      appCode: 'CHALLENGE_FAILED',
      details: { why: 'invalid' },
    });
    await api.session.create.mutate({ consent: ADULT, altcha });
    // The pass lasted 1 ms: the next session needs a solution again, and the used one is refused.
    await new Promise((r) => setTimeout(r, 20));
    const reused = await refusal<Refusal>(api.session.create.mutate({ consent: ADULT, altcha }));
    expect(reused.data).toMatchObject({ appCode: 'CHALLENGE_FAILED', details: { why: 'used' } });
  });

  it('an expired challenge is refused, by the server clock', async () => {
    let ahead = 0;
    await using app = await startTestApp(
      { ...CHEAP, CHALLENGE_SESSIONS_PER_IP: '1/1m', CHALLENGE_TTL_MS: '60000' },
      { clock: { now: () => Date.now() + ahead } },
    );
    const api = httpClient(app.url);
    await api.session.create.mutate({ consent: ADULT });
    const altcha = await solve(await challengeOf(api.session.create.mutate({ consent: ADULT })));
    ahead = 61_000;
    expect((await refusal<Refusal>(api.session.create.mutate({ consent: ADULT, altcha }))).data).toMatchObject({
      appCode: 'CHALLENGE_FAILED',
      details: { why: 'expired' },
    });
  });

  it('skipping far above normal asks for a challenge; safety.solveChallenge lets the person skip again', async () => {
    await using app = await startTestApp({ ...CHEAP, CHALLENGE_SKIPS: '3/1m' });
    await using ann = await connectUser(app.url);
    // Every skip counts, whatever it finds (here: nobody to skip).
    for (let i = 0; i < 3; i++) expect((await refusal<Refusal>(ann.api.match.skip.mutate({}))).data.appCode).toBe('NOT_IN_MATCH');
    const challenge = await challengeOf(ann.api.match.skip.mutate({}));
    await ann.api.safety.solveChallenge.mutate({ altcha: await solve(challenge) });
    expect((await refusal<Refusal>(ann.api.match.skip.mutate({}))).data.appCode).toBe('NOT_IN_MATCH');
    await ann.api.match.enqueue.mutate({});
  });

  it('repeated rate-limit refusals of one person ask for a challenge, after the limit lets them through again', async () => {
    await using app = await startTestApp({ ...CHEAP, RATE_ENQUEUE: '1/1s', CHALLENGE_RATE_REFUSALS: '2/1m' });
    await using ann = await connectUser(app.url);
    await ann.api.match.enqueue.mutate({});
    for (let i = 0; i < 2; i++) expect((await refusal<Refusal>(ann.api.match.enqueue.mutate({}))).data.appCode).toBe('RATE_LIMITED');
    await new Promise((r) => setTimeout(r, 1100));
    const challenge = await challengeOf(ann.api.match.enqueue.mutate({}));
    const wrong = await solve(challenge);
    wrong.solution.derivedKey = '00'.repeat(32);
    expect((await refusal<Refusal>(ann.api.safety.solveChallenge.mutate({ altcha: wrong }))).data.appCode).toBe('CHALLENGE_FAILED');
    await ann.api.safety.solveChallenge.mutate({ altcha: await solve(challenge) });
    await ann.api.match.cancel.mutate({});
    await new Promise((r) => setTimeout(r, 1100));
    await expect(ann.api.match.enqueue.mutate({})).resolves.toBeDefined();
  });

  it('repeated rate-limit refusals of one address ask for a challenge on the next session', async () => {
    await using app = await startTestApp({ ...CHEAP, RATE_SESSIONS_PER_IP: '1/1s', CHALLENGE_RATE_REFUSALS: '2/1m' });
    const api = httpClient(app.url);
    await api.session.create.mutate({ consent: ADULT });
    for (let i = 0; i < 2; i++) expect((await refusal<Refusal>(api.session.create.mutate({ consent: ADULT }))).data.appCode).toBe('RATE_LIMITED');
    await new Promise((r) => setTimeout(r, 1100));
    const altcha = await solve(await challengeOf(api.session.create.mutate({ consent: ADULT })));
    await new Promise((r) => setTimeout(r, 1100));
    await expect(api.session.create.mutate({ consent: ADULT, altcha })).resolves.toMatchObject({ token: expect.any(String) });
  });
});
