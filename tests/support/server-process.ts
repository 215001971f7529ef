/**
 * A Rendezvous server in its own OS process (`node tsx server/main.ts`), for tests that send it
 * real signals (SIGTERM, SIGKILL). Resolves once /readyz answers 200.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './free-port';
import { ADMIN_TOKEN } from './app';
import { UNLIMITED_RATES } from './unlimited-rates';

// `node --import tsx` (not tsx's CLI, which runs the server in a child): the pid we signal is the server's.

export interface ServerProcess extends AsyncDisposable {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HOST: '127.0.0.1',
      // Only creates the first admin: tests/support/operators.ts signs operators in through it for a server in another process.
      ADMIN_TOKEN,
      SESSION_SECRET: 'test-session-secret-0123456789abcdef',
      // Every test client connects from 127.0.0.1: the per-address bounds are tested on their own.
      WS_MAX_PER_IP: '100000',
      HTTP_RATE_PER_IP: '1000000',
      WS_MESSAGES_PER_SECOND: '100000',
      ...UNLIMITED_RATES,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${out}`);
    try {
      if ((await fetch(`${url}/readyz`)).status === 200) break;
    } catch {}
    if (Date.now() - started > 30_000) throw new Error(`server did not get ready: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    exited,
    output: () => out,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
