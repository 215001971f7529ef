/**
 * Private, throw-away `redis-server` for tests that kill, pause or restart
 * Redis. Never use the shared instance for that: see `databases.ts`.
 *
 *   await using redis = await startRedisServer({ appendonly: true });
 *   await redis.kill('SIGSTOP');  // frozen: connections stay open, nothing answers
 *   await redis.kill('SIGCONT');
 *   await redis.kill('SIGKILL');  // crash
 *   await redis.restart();        // same port + dir, AOF data comes back
 *
 * Lifecycle:
 *   stop()       graceful SHUTDOWN (SIGTERM); keeps the dir so restart() can bring data back.
 *   restart()    stop() if running, then start again on the same port and dir.
 *   dispose      stop() + delete the dir if this helper created it (a caller-supplied dir is kept).
 * If the test process exits (normally, or via SIGINT/SIGTERM/SIGHUP) with servers still
 * alive, they are SIGKILLed and their temp dirs removed; servers orphaned by a process that
 * died harder (SIGKILL) are reaped by the next startRedisServer() call.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';

export interface StartRedisServerOptions {
  /** AOF persistence; needed if restart() should bring data back. Default false. */
  appendonly?: boolean;
  /** Working dir (AOF lives here). Default: a fresh temp dir, deleted on dispose. */
  dir?: string;
  /**
   * More redis-server arguments (e.g. `--rename-command FCALL ""` to play an older Redis), or a
   * function of the port being tried that makes them (a cluster node's bus port must differ).
   */
  extraArgs?: string[] | ((port: number) => Promise<string[]>);
}

export type ServerSignal = 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM' | 'SIGINT' | 'SIGQUIT';

export interface RedisServer extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** pid of the current (or last) redis-server process; changes on restart(). */
  readonly pid: number;
  readonly dir: string;
  /** true while a redis-server process is alive (also while SIGSTOPped). */
  readonly running: boolean;
  /** Graceful shutdown (SIGTERM, AOF flushed). Keeps the dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * Signals the server's process group. Resolves once the signal took effect:
   * SIGKILL/SIGTERM/SIGINT/SIGQUIT -> process exited; SIGSTOP -> stopped; SIGCONT -> running.
   */
  kill(signal: ServerSignal): Promise<void>;
  /** Stops (if running) and starts again on the same port and dir. */
  restart(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const DIR_PREFIX = 'rv-redis-';
const OWNER_FILE = '.rv-owner.json';
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 8;

export async function startRedisServer(opts: StartRedisServerOptions = {}): Promise<RedisServer> {
  reapOrphansOnce();
  const appendonly = opts.appendonly ?? false;
  const ownsDir = opts.dir === undefined;
  const dir = ownsDir ? mkdtempSync(path.join(scratchRoot(), DIR_PREFIX)) : path.resolve(opts.dir!);
  if (!ownsDir) mkdirSync(dir, { recursive: true });

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let alive = false;
  let lastPid = -1;
  let port = -1;
  let log = '';
  let disposed = false;

  const writeOwner = () => {
    if (ownsDir) {
      writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify({ ownerPid: process.pid, serverPid: lastPid }));
    }
  };

  // Synchronous teardown for process exit: no awaiting possible there.
  const unregister = registerExitCleanup(() => {
    if (alive) killGroup(lastPid, 'SIGKILL');
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
  });

  const spawnOnce = async (p: number): Promise<'ok' | 'addr-in-use'> => {
    log = '';
    const args = [
      '--port',
      String(p),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      appendonly ? 'yes' : 'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--logfile',
      '',
      ...(typeof opts.extraArgs === 'function' ? await opts.extraArgs(p) : (opts.extraArgs ?? [])),
    ];
    const c = spawn(REDIS_BIN, args, { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const onOutput = (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-16_384);
    };
    c.stdout?.on('data', onOutput);
    c.stderr?.on('data', onOutput);
    let hasExited = false;
    exited = new Promise<void>((resolve) => {
      c.once('exit', () => {
        hasExited = true;
        if (child === c) alive = false;
        resolve();
      });
    });
    const spawnError = new Promise<Error>((resolve) => c.once('error', resolve));
    // Don't let a forgotten server keep the test process alive; the exit hook kills it.
    c.unref();
    unrefStream(c.stdout);
    unrefStream(c.stderr);

    child = c;
    alive = c.pid !== undefined;
    lastPid = c.pid ?? -1;
    if (!alive) {
      throw new Error(`could not spawn ${REDIS_BIN}: ${(await spawnError).message}`);
    }
    writeOwner();

    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (hasExited) {
        await sleep(20); // let the last output arrive
        if (/address already in use/i.test(log)) return 'addr-in-use';
        throw new Error(`redis-server exited during startup on port ${p}:\n${log}`);
      }
      // Checking process_id guards against a foreign Redis that already owns the port.
      const answer = await probe(p);
      if (answer === c.pid) return 'ok';
      await sleep(10);
    }
    killGroup(c.pid!, 'SIGKILL');
    await within(exited, 5_000); // a timer keeps the event loop alive: the child is unref()ed
    throw new Error(`redis-server did not answer PING within ${READY_TIMEOUT_MS} ms on port ${p}:\n${log}`);
  };

  const halt = async (mode: 'graceful' | 'kill' = 'graceful') => {
    if (!alive || !child) return;
    if (mode === 'kill') {
      killGroup(lastPid, 'SIGKILL');
      await within(exited, 5_000); // a timer keeps the event loop alive: the child is unref()ed
      return;
    }
    killGroup(lastPid, 'SIGCONT'); // a SIGSTOPped server can't shut down
    // SHUTDOWN acts at once; SIGTERM is only noticed by the next serverCron tick (~100 ms).
    if (!(await sendShutdown(port))) child.kill('SIGTERM');
    if (!(await within(exited, STOP_TIMEOUT_MS))) {
      killGroup(lastPid, 'SIGKILL');
      await within(exited, 5_000); // a timer keeps the event loop alive: the child is unref()ed
    }
  };

  const startOnSamePort = async () => {
    // The port was ours a moment ago; if something grabbed it meanwhile, wait a little.
    const deadline = Date.now() + 5_000;
    for (;;) {
      if ((await spawnOnce(port)) === 'ok') return;
      if (Date.now() > deadline) throw new Error(`port ${port} is taken by another process; cannot restart redis-server`);
      await sleep(100);
    }
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      if ((await spawnOnce(port)) === 'ok') break;
      if (attempt >= PORT_ATTEMPTS) throw new Error(`redis-server: no free port after ${attempt} attempts`);
    }
  } catch (err) {
    await halt('kill').catch(() => undefined);
    unregister();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const server: RedisServer = {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get pid() {
      return lastPid;
    },
    dir,
    get running() {
      return alive;
    },
    stop: () => halt('graceful'),
    async kill(signal) {
      if (!alive) throw new Error(`redis-server (port ${port}) is not running; cannot send ${signal}`);
      const pid = lastPid;
      killGroup(pid, signal);
      if (signal === 'SIGSTOP') {
        await waitForProcState(pid, (s) => s === 'T' || s === 't');
      } else if (signal === 'SIGCONT') {
        await waitForProcState(pid, (s) => s !== 'T' && s !== 't');
      } else {
        if (!(await within(exited, STOP_TIMEOUT_MS))) {
          throw new Error(`redis-server did not exit within ${STOP_TIMEOUT_MS} ms after ${signal}`);
        }
      }
    },
    async restart() {
      if (disposed) throw new Error('redis-server was disposed');
      await halt();
      await startOnSamePort();
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      try {
        // Our own temp dir is deleted anyway: no point in a graceful shutdown.
        await halt(ownsDir ? 'kill' : 'graceful');
      } finally {
        unregister();
        if (ownsDir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      }
    },
  };
  return server;
}

/** Sends SHUTDOWN (AOF is flushed, no RDB since save ""). Resolves false if it could not be sent. */
function sendShutdown(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, 1_000);
    socket.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    socket.on('connect', () => {
      socket.end('SHUTDOWN\r\n', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    socket.on('data', () => undefined);
  });
}

/** Sends PING + INFO server; resolves with the server's process_id once it answers PONG, else null. */
function probe(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buffer = '';
    const finish = (value: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => finish(null), 1_000);
    socket.on('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      if (buffer.length >= 7 && !buffer.startsWith('+PONG\r\n')) return finish(null); // e.g. -LOADING
      const match = /\r\nprocess_id:(\d+)\r\n/.exec(buffer);
      if (match) finish(Number(match[1]));
    });
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal); // detached: the server leads its own process group
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function unrefStream(stream: unknown): void {
  (stream as { unref?: () => void } | null)?.unref?.();
}

async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Linux: process state letter from /proc/<pid>/stat ('R', 'S', 'T', 'Z', ...), or null. */
function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

async function waitForProcState(pid: number, ok: (state: string) => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = procState(pid);
    if (state === null || ok(state)) return; // no /proc: best effort
    if (Date.now() > deadline) throw new Error(`process ${pid} still in state ${state} after ${timeoutMs} ms`);
    await sleep(2);
  }
}

let reaped = false;
/** Kills servers + removes temp dirs left by test processes that died without running exit hooks. */
function reapOrphansOnce(): void {
  if (reaped) return;
  reaped = true;
  for (const dir of scratchDirs(DIR_PREFIX)) {
    try {
      const owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as { ownerPid?: unknown; serverPid?: unknown };
      if (typeof owner.ownerPid !== 'number' || isAlive(owner.ownerPid)) continue;
      if (typeof owner.serverPid === 'number' && owner.serverPid > 0) {
        // Only signal it if it is still the redis-server that runs in that dir (pid reuse).
        let cwd = '';
        try {
          cwd = readlinkSync(`/proc/${owner.serverPid}/cwd`);
        } catch {
          /* gone, or no /proc */
        }
        if (cwd === realpathSync(dir)) killGroup(owner.serverPid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // No/garbled owner file: possibly still being created by a live process; leave it.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---------------------------------------------------------------------------------------------
// Scratch space, shared with postgres-server.ts.
// ---------------------------------------------------------------------------------------------
let cachedScratchRoot: string | undefined;

/**
 * Where server dirs go: $RV_TEST_TMPDIR, else /dev/shm when it is a writable tmpfs with >= 1 GiB
 * free (creating the ~1000 files of a Postgres cluster there is ~20x faster than on a disk
 * filesystem), else os.tmpdir().
 */
export function scratchRoot(): string {
  if (cachedScratchRoot !== undefined) return cachedScratchRoot;
  const fromEnv = process.env.RV_TEST_TMPDIR;
  if (fromEnv) return (cachedScratchRoot = path.resolve(fromEnv));
  try {
    const stats = statfsSync('/dev/shm');
    accessSync('/dev/shm', constants.W_OK);
    if (stats.bavail * stats.bsize >= 1024 ** 3) return (cachedScratchRoot = '/dev/shm');
  } catch {
    /* no /dev/shm */
  }
  return (cachedScratchRoot = os.tmpdir());
}

/** Existing entries named `<prefix>*` in every place scratchRoot() may have chosen. */
export function scratchDirs(prefix: string): string[] {
  const found: string[] = [];
  for (const root of new Set([scratchRoot(), '/dev/shm', os.tmpdir()])) {
    try {
      for (const name of readdirSync(root)) if (name.startsWith(prefix)) found.push(path.join(root, name));
    } catch {
      /* missing root */
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Exit hooks, shared (via a global symbol) with postgres-server.ts so there is exactly one set
// of process listeners however many support modules are loaded.
// ---------------------------------------------------------------------------------------------
type ExitCleanup = () => void;
const EXIT_REGISTRY = Symbol.for('rendezvous.tests.support.exitCleanup');

export function registerExitCleanup(fn: ExitCleanup): () => void {
  const holder = globalThis as unknown as Record<symbol, Set<ExitCleanup> | undefined>;
  let fns = holder[EXIT_REGISTRY];
  if (!fns) {
    const registry = new Set<ExitCleanup>();
    fns = registry;
    holder[EXIT_REGISTRY] = registry;
    const runAll = () => {
      for (const cleanup of [...registry]) {
        registry.delete(cleanup);
        try {
          cleanup();
        } catch {
          /* best effort */
        }
      }
    };
    process.once('exit', runAll);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const onSignal = () => {
        runAll();
        process.removeListener(signal, onSignal);
        // If nobody else handles it, restore the default behaviour (terminate).
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      };
      process.on(signal, onSignal);
    }
  }
  fns.add(fn);
  const registry = fns;
  return () => {
    registry.delete(fn);
  };
}
