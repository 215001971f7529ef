/**
 * An unknown name is checked against a decoy hash made when the server starts: the first such
 * sign-in hashes nothing (it would be slower than a wrong password, and tell the name is unknown).
 */
import type * as Argon2 from '@node-rs/argon2';
import { describe, expect, it, vi } from 'vitest';
import { startTestApp } from '../support/app';
import { httpClient, refusal } from '../support/client';

const argon2 = vi.hoisted(() => ({ hashes: 0, verifies: 0 }));
vi.mock('@node-rs/argon2', async (importOriginal) => {
  const real = await importOriginal<typeof Argon2>();
  return {
    ...real,
    hash: (...a: Parameters<typeof real.hash>) => (argon2.hashes++, real.hash(...a)),
    verify: (...a: Parameters<typeof real.verify>) => (argon2.verifies++, real.verify(...a)),
  };
});

describe('the decoy hash', () => {
  it('is made at start: the first unknown-name sign-in only verifies', async () => {
    await using app = await startTestApp();
    expect(argon2.hashes).toBe(1);
    argon2.verifies = 0;
    expect((await refusal(httpClient(app.url).operators.login.mutate({ name: 'nobody', password: 'a guess' }))).data.appCode).toBe('LOGIN_FAILED');
    expect(argon2).toEqual({ hashes: 1, verifies: 1 });
  });
});
