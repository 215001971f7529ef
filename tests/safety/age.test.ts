/**
 * The age policy on the real services: nobody starts without an age answer and the rules
 * accepted; under-13s are refused, and under-18s too unless ALLOW_MINORS; with it, under-18s are
 * matched only with each other, never with an adult, however people arrive.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Audience } from '../../server/safety/age';
import { State } from '../../server/state/states';
import { startTestApp } from '../support/app';
import { connectUser, httpClient, refusal } from '../support/client';

/** The refusal as this file reads it. */
async function refusalOf(call: Promise<unknown>): Promise<{ appCode?: string; message: string }> {
  const { message, data } = await refusal(call);
  return { appCode: data.appCode, message };
}

describe('the age policy', () => {
  it('a session without an age answer may not Start until it has one', async () => {
    await using app = await startTestApp();
    const s = await httpClient(app.url).session.create.mutate({});
    await using ann = await connectUser(app.url, { token: s.token, userId: s.userId });
    expect(await refusalOf(ann.api.match.enqueue.mutate({}))).toEqual({
      appCode: 'CONSENT_REQUIRED',
      message: 'Please tell us your age and accept the rules before you start.',
    });
    expect((await app.server.services.store.getUser(s.userId)).state).toBe(State.IDLE);
  });

  it('under-13s are always refused, under-18s unless ALLOW_MINORS', async () => {
    await using adultsOnly = await startTestApp();
    const api = httpClient(adultsOnly.url);
    for (const ageBracket of ['under-13', '13-17'] as const) {
      expect(await refusalOf(api.session.create.mutate({ consent: { ageBracket, acceptRules: true } }))).toEqual({
        appCode: 'AGE_NOT_ALLOWED',
        message: 'Rendezvous is for adults (18 and over).',
      });
    }
    await using withMinors = await startTestApp({ ALLOW_MINORS: 'true' });
    const minorsApi = httpClient(withMinors.url);
    expect((await refusalOf(minorsApi.session.create.mutate({ consent: { ageBracket: 'under-13', acceptRules: true } }))).appCode).toBe('AGE_NOT_ALLOWED');
    await expect(minorsApi.session.create.mutate({ consent: { ageBracket: '13-17', acceptRules: true } })).resolves.toMatchObject({
      token: expect.any(String),
    });
  });

  it('with ALLOW_MINORS, 10,000 random arrivals: an under-18 is never paired with an adult', { timeout: 120_000 }, async () => {
    await using app = await startTestApp({ ALLOW_MINORS: 'true', POOL_LANGUAGES: 'en,de', POOL_REGIONS: 'eu,na' });
    const { match, store } = app.server.services;
    const audience = new Map<string, Audience>();
    const pairs: Array<[string, string]> = [];
    store.onMatches((_pool, made) => pairs.push(...made.map((m): [string, string] => [m.a, m.b])));
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    const pre = { action: 'start looking', states: [State.IDLE] };
    const arrive = async () => {
      const uid = randomUUID();
      const who: Audience = Math.random() < 0.3 ? 'minor' : 'adult';
      audience.set(uid, who);
      await match.enqueue(uid, 'someone', { language: pick(['en', 'de', undefined]), region: pick(['eu', 'na', undefined]) }, pre, who);
    };
    for (let done = 0; done < 10_000; done += 50) await Promise.all(Array.from({ length: 50 }, arrive));

    expect(pairs.length).toBeGreaterThan(3000);
    const mixed = pairs.filter(([a, b]) => audience.get(a) !== audience.get(b));
    expect(mixed).toEqual([]);
    const minorPairs = pairs.filter(([a]) => audience.get(a) === 'minor').length;
    expect(minorPairs).toBeGreaterThan(500); // minors did meet: each other
  });
});
