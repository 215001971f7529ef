/**
 * A private coturn (Debian's `turnserver`, `.ci/run` installs it) on loopback, for tests of
 * relayed calls: TURN REST API credentials (`use-auth-secret` with `static-auth-secret`, the
 * scheme server/rooms/turn.ts issues), UDP and TCP on one free port, relays on 127.0.0.1 with
 * loopback peers allowed (everything here is on one machine), no TLS/DTLS, no CLI, and a log file
 * the test reads. Everything it writes stays in a temp dir, removed on dispose.
 *
 *   await using turn = await startTurnServer();
 *   startTestApp({ TURN_URLS: turn.url, TURN_SECRET: turn.secret });
 *   turn.log(); // allocations, with each credential's username
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { accepts, freePort } from './free-port';

const TURNSERVER = process.env.TURNSERVER_BIN ?? '/usr/bin/turnserver';
const READY_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 5;

export interface TurnServer extends AsyncDisposable {
  /** `turn:127.0.0.1:<port>` (UDP; `?transport=tcp` for TCP). */
  url: string;
  port: number;
  secret: string;
  realm: string;
  /** What coturn logged so far (verbose: every allocation with its username). */
  log(): string;
}

export async function startTurnServer(opts: { secret?: string } = {}): Promise<TurnServer> {
  const secret = opts.secret ?? 'test-turn-secret-0123456789abcdef';
  const realm = 'rendezvous.test';
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rv-turn-'));
    try {
      return await startOnce(dir, await freePort(), secret, realm);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      if (attempt >= PORT_ATTEMPTS) throw e; // the free port was taken meanwhile: try another
    }
  }
}

async function startOnce(dir: string, port: number, secret: string, realm: string): Promise<TurnServer> {
  const logFile = path.join(dir, 'turn.log');
  const args = [
    '-n', // no config file: only these flags
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${port}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    `--realm=${realm}`,
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    // Both browsers and the relay are 127.0.0.1: coturn refuses loopback peers by default.
    '--allow-loopback-peers',
    '--fingerprint',
    // Its own database file (the default is system-wide) and pid file.
    `--userdb=${path.join(dir, 'turndb')}`,
    `--pidfile=${path.join(dir, 'turn.pid')}`,
    `--log-file=${logFile}`,
    '--simple-log', // exactly this file name, no date suffix
    '--no-stdout-log',
    '--verbose',
  ];
  const child = spawn(TURNSERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // Ready once its TCP listener answers (UDP and TCP listeners start together).
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.pid === undefined || Date.now() > deadline) {
      const why = child.pid === undefined ? (await spawnError).message : `${stderr}\n${log().slice(-2000)}`;
      await stop();
      throw new Error(`turnserver did not start on port ${port}: ${why}`);
    }
    await sleep(20);
  }
  return { url: `turn:127.0.0.1:${port}`, port, secret, realm, log, [Symbol.asyncDispose]: stop };
}
