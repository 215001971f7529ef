/** `npm run operator:create`: the first admin from the command line, with ADMIN_TOKEN, once. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startTestApp } from '../support/app';
import { OPERATOR_PASSWORD, operatorClient, signIn } from '../support/operators';

function run(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/operator-create.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

describe('npm run operator:create', () => {
  it('creates the first admin with the admin token (password from the environment or piped in), and refuses a second', { timeout: 60_000 }, async () => {
    await using app = await startTestApp();
    expect((await run(['--name', 'root', '--url', app.url], { OPERATOR_PASSWORD })).code).toBe(2); // no ADMIN_TOKEN: usage
    const wrong = await run(['--name', 'root', '--url', app.url], { ADMIN_TOKEN: `${ADMIN_TOKEN}x`, OPERATOR_PASSWORD });
    expect(wrong).toMatchObject({ code: 1, err: "Creating the first admin needs the server's admin token.\n" });

    const made = await run(['--name', 'root', '--url', app.url], { ADMIN_TOKEN }, `${OPERATOR_PASSWORD}\n`);
    expect(made.code, made.err).toBe(0);
    expect(made.out).toMatch(/^Created admin operator root \([0-9a-f-]{36}\)/);
    expect((await signIn(app.url, 'root')).operator).toMatchObject({ name: 'root', role: 'admin' });

    const again = await run(['--name', 'second', '--url', app.url], { ADMIN_TOKEN, OPERATOR_PASSWORD });
    expect(again).toMatchObject({ code: 1, err: 'An admin already exists. Ask an admin to create your account.\n' });
  });

  it('a test reaches a server it only knows by URL through the same bootstrap, then operators.create', async () => {
    await using app = await startTestApp();
    expect(await (await operatorClient({ url: app.url }, 'moderator', { name: 'remote-mod' })).operators.me.query()).toMatchObject({
      name: 'remote-mod',
      role: 'moderator',
    });
    expect(await (await operatorClient({ url: app.url }, 'admin')).operators.me.query()).toMatchObject({ role: 'admin' });
    // One bootstrap: the second admin was created by the first.
    expect((await app.server.services.operators.list()).map((o) => [o.name.replace(/-[0-9a-f]{8}$/, ''), o.role])).toEqual([
      ['bootstrap-admin', 'admin'],
      ['remote-mod', 'moderator'],
      ['admin', 'admin'],
    ]);
  });
});
