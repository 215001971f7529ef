/**
 * nginx in front of server processes, from the documented example (docs/deploy/nginx.conf) with
 * the test's ports: its upstream servers and its listen port replaced, everything nginx writes
 * kept in a temp dir. Debian's nginx package (`.ci/run` installs it).
 *
 *   await using lb = await startNginx([portA, portB, portC]);
 *   connectUser(lb.url);
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { accepts, freePort } from './free-port';

const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const EXAMPLE = new URL('../../docs/deploy/nginx.conf', import.meta.url);

export interface Nginx extends AsyncDisposable {
  url: string;
  /** What nginx logged (errors, upstreams it gave up on). */
  log(): string;
}

export async function startNginx(upstreamPorts: number[]): Promise<Nginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rv-nginx-'));
  const port = await freePort();
  const upstreams = upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n');
  const conf = readFileSync(EXAMPLE, 'utf8')
    .replace(/( {4}server 127\.0\.0\.1:\d+[^\n]*\n)+/, `${upstreams}\n`)
    .replace(/listen \d+;/, `listen 127.0.0.1:${port};`)
    .replace('worker_processes auto;', 'worker_processes 1;')
    .replace(
      'http {',
      `http {\n  access_log off;\n${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n')}`,
    );
  writeFileSync(path.join(dir, 'nginx.conf'), conf);
  const errorLog = path.join(dir, 'error.log');
  const child = spawn(
    NGINX,
    [
      '-p',
      dir,
      '-c',
      path.join(dir, 'nginx.conf'),
      '-g',
      `daemon off; pid ${dir}/nginx.pid; error_log ${errorLog} warn;${process.getuid?.() === 0 ? ' user root;' : ''}`,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not start: ${stderr}`);
    }
    await sleep(20);
  }
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => {
      try {
        return readFileSync(errorLog, 'utf8');
      } catch {
        return '';
      }
    },
    [Symbol.asyncDispose]: stop,
  };
}
