/**
 * Child processes of the benchmark, each a plain `node --import tsx <file>` (one process, so its
 * pid is the one /proc is read for), with an IPC channel. Their stdout and stderr go to our
 * stderr: our stdout carries only the results.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  proc: ChildProcess;
  /** Resolves with the next IPC message of `type`. */
  next<T extends { type: string }>(type: T['type'], timeoutMs?: number): Promise<T>;
  send(m: { type: string }): void;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
}

export function startChild(file: string, env: Record<string, string>, nodeArgs: string[] = []): Child {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', file], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  proc.stdout?.pipe(process.stderr);
  proc.stderr?.pipe(process.stderr);
  const inbox: Array<{ type: string }> = [];
  const waiters = new Set<() => void>();
  proc.on('message', (m: { type: string }) => {
    inbox.push(m);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const next = <T extends { type: string }>(type: string, timeoutMs = 120_000) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const i = inbox.findIndex((m) => m.type === type);
        if (i < 0) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(inbox.splice(i, 1)[0] as T);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${file}: no '${type}' message within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      void exited.then((code) => {
        if (!waiters.has(check)) return;
        waiters.delete(check);
        clearTimeout(timer);
        reject(new Error(`${file} exited (${code}) before sending '${type}'`));
      });
      check();
    });
  const send = (m: { type: string }) => {
    if (proc.connected) proc.send(m);
  };
  const stop = async (timeoutMs = 15_000) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    send({ type: 'stop' });
    const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(t);
  };
  return { proc, next, send, exited, stop };
}

/** The node flags of `npm start` (what production runs), e.g. its young-generation size. */
export function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  const words = (pkg.scripts.start ?? '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1, words.indexOf('--import')).filter((w) => w.startsWith('--'));
}
