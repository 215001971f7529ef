/**
 * Private, throw-away PostgreSQL cluster for tests that stop, crash or freeze Postgres.
 * Tests that merely need a database should use createTestDatabase() from `databases.ts`.
 *
 *   await using pg = await startPostgresServer();
 *   await pg.stop();   // fast shutdown, data kept: "Postgres is down"
 *   await pg.start();  // back, same port, same data
 *   await pg.kill('SIGSTOP'); await pg.kill('SIGCONT');  // frozen / thawed
 *   await pg.kill('SIGKILL'); await pg.start();           // crash + crash recovery
 *   // dispose: shutdown + data dir removed
 *
 * How: `initdb` runs once into a cached template under scratchRoot() (keyed by server version,
 * options and OS user) and each cluster is a `cp -a` of it. When running as root the server
 * binaries run as the `postgres` OS user (initdb/postgres refuse root); we use spawn()'s
 * uid/gid rather than `runuser`, so the pid we hold is the postmaster itself.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from './free-port';
import { registerExitCleanup, scratchDirs, scratchRoot, type ServerSignal } from './redis-server';

export type { ServerSignal } from './redis-server';

export interface PostgresServer extends AsyncDisposable {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth). */
  readonly url: string;
  readonly port: number;
  /** pid of the current (or last) postmaster; changes on start(). */
  readonly pid: number;
  /** Temp dir holding `data/` and the unix socket. */
  readonly dir: string;
  readonly running: boolean;
  /** Fast shutdown (SIGINT to the postmaster); keeps the data. Idempotent. */
  stop(): Promise<void>;
  /** Starts the stopped/crashed cluster again on the same port; resolves when it accepts queries. */
  start(): Promise<void>;
  /**
   * Signals the whole cluster (postmaster's process group, i.e. backends too). Resolves once it
   * took effect: SIGKILL/SIGTERM/SIGINT/SIGQUIT -> postmaster exited; SIGSTOP/SIGCONT -> postmaster
   * stopped/running.
   */
  kill(signal: ServerSignal): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DIR_PREFIX = 'rv-pg-';
const TEMPLATE_PREFIX = 'rv-pgtemplate-';
const OWNER_FILE = '.rv-owner.json';
const READY_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 8;
const INITDB_ARGS = ['-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'];
const SERVER_SETTINGS = [
  'listen_addresses=127.0.0.1',
  'fsync=off',
  'full_page_writes=off',
  'wal_level=minimal',
  'max_wal_senders=0',
  'jit=off',
  'huge_pages=off',
];

interface RunAs {
  uid?: number;
  gid?: number;
}

export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = pgBinDir();
  const runAs = postgresOsUser();
  reapOrphansOnce();
  const template = await ensureTemplate(bin, runAs);

  const dir = mkdtempSync(path.join(scratchRoot(), DIR_PREFIX));
  const dataDir = path.join(dir, 'data');
  if (runAs.uid !== undefined) chownSync(dir, runAs.uid, runAs.gid!);

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let alive = false;
  let lastPid = -1;
  let port = -1;
  let log = '';
  let disposed = false;
  /** Processes of a cluster we SIGKILLed; they must be gone before the next start. */
  let crashed: number[] = [];

  const writeOwner = () => writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify({ ownerPid: process.pid, serverPid: lastPid }));
  writeOwner();
  const unregister = registerExitCleanup(() => teardownSync(alive ? lastPid : -1, dir));

  const spawnOnce = async (p: number): Promise<'ok' | 'addr-in-use'> => {
    log = '';
    const args = ['-D', dataDir, '-p', String(p), '-k', dir, ...SERVER_SETTINGS.flatMap((s) => ['-c', s])];
    const c = spawn(path.join(bin, 'postgres'), args, {
      ...runAs,
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    });
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
    c.unref();
    unrefStream(c.stdout);
    unrefStream(c.stderr);

    child = c;
    alive = c.pid !== undefined;
    lastPid = c.pid ?? -1;
    if (!alive) throw new Error(`could not spawn postgres: ${(await spawnError).message}`);
    writeOwner();

    const url = `postgres://postgres@127.0.0.1:${p}/postgres`;
    const startedAt = Date.now();
    const deadline = startedAt + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (hasExited) {
        await sleep(20);
        if (/address already in use/i.test(log)) return 'addr-in-use';
        throw new Error(`postgres exited during startup on port ${p}:\n${log}`);
      }
      // "ready to accept connections" in the log is the cheap signal (falling back to plain
      // polling after 2 s); a query confirms it and proves the port is served by *our* cluster.
      const logSaysReady = /ready to accept connections/.test(log) || Date.now() - startedAt > 2_000;
      if (logSaysReady && (await servesDataDir(url, dataDir))) return 'ok';
      await sleep(15);
    }
    crashed = signalCluster(c.pid!, 'SIGKILL');
    await within(exited, 5_000); // a timer keeps the event loop alive: the child is unref()ed
    throw new Error(`postgres not ready within ${READY_TIMEOUT_MS} ms on port ${p}:\n${log}`);
  };

  const halt = async () => {
    if (!alive || !child) return;
    signalCluster(lastPid, 'SIGCONT'); // a frozen cluster can't shut down
    child.kill('SIGINT'); // fast shutdown
    if (await within(exited, 15_000)) return;
    child.kill('SIGQUIT'); // immediate shutdown
    if (await within(exited, 5_000)) return;
    crashed = signalCluster(lastPid, 'SIGKILL');
    await within(exited, 5_000); // a timer keeps the event loop alive: the child is unref()ed
  };

  const startOnSamePort = async () => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      if ((await spawnOnce(port)) === 'ok') return;
      if (Date.now() > deadline) throw new Error(`port ${port} is taken by another process; cannot start postgres`);
      await sleep(100);
    }
  };

  try {
    await run('cp', ['-a', '--reflink=auto', path.join(template, 'data'), dataDir], runAs);
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      if ((await spawnOnce(port)) === 'ok') break;
      if (attempt >= PORT_ATTEMPTS) throw new Error(`postgres: no free port after ${attempt} attempts`);
    }
  } catch (err) {
    await halt().catch(() => undefined);
    unregister();
    teardownSync(-1, dir);
    throw err;
  }

  const server: PostgresServer = {
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
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
    stop: halt,
    async start() {
      if (disposed) throw new Error('postgres server was disposed');
      if (alive) return;
      await waitUntilGone(crashed); // killed backends must be gone before a restart
      crashed = [];
      await startOnSamePort();
    },
    async kill(signal) {
      if (!alive) throw new Error(`postgres (port ${port}) is not running; cannot send ${signal}`);
      const pid = lastPid;
      const signalled = signalCluster(pid, signal);
      if (signal === 'SIGSTOP') {
        await waitForProcState(pid, (s) => s === 'T' || s === 't');
      } else if (signal === 'SIGCONT') {
        await waitForProcState(pid, (s) => s !== 'T' && s !== 't');
      } else {
        if (!(await within(exited, 15_000))) {
          throw new Error(`postgres did not exit within 15 s after ${signal}`);
        }
        if (signal === 'SIGKILL') {
          crashed = signalled;
          await waitUntilGone(signalled);
        }
      }
    },
    async [Symbol.asyncDispose]() {
      if (disposed) return;
      disposed = true;
      try {
        await halt();
        await waitUntilGone(crashed);
      } finally {
        unregister();
        teardownSync(-1, dir);
      }
    },
  };
  return server;
}

// ---------------------------------------------------------------------------------------------

let templatePromise: Promise<string> | undefined;

/** initdb once per (server version, initdb args, OS user) into scratchRoot(); reused across runs. */
function ensureTemplate(bin: string, runAs: RunAs): Promise<string> {
  templatePromise ??= buildTemplate(bin, runAs).catch((err: unknown) => {
    templatePromise = undefined;
    throw err;
  });
  return templatePromise;
}

async function buildTemplate(bin: string, runAs: RunAs): Promise<string> {
  const version = execFileSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
  const key = createHash('sha256')
    .update(JSON.stringify([version, INITDB_ARGS, runAs.uid ?? process.getuid?.() ?? 0]))
    .digest('hex')
    .slice(0, 16);
  const template = path.join(scratchRoot(), `${TEMPLATE_PREFIX}${key}`);
  const complete = (dir: string) =>
    existsSync(path.join(dir, '.complete')) && existsSync(path.join(dir, 'data', 'PG_VERSION')) && existsSync(path.join(dir, 'data', 'global', 'pg_control'));
  if (complete(template)) return template;

  // Build beside it and rename into place: atomic, so concurrent workers never see half a template.
  const build = mkdtempSync(path.join(scratchRoot(), `${TEMPLATE_PREFIX}build-`));
  try {
    if (runAs.uid !== undefined) chownSync(build, runAs.uid, runAs.gid!);
    await run(path.join(bin, 'initdb'), ['-D', path.join(build, 'data'), ...INITDB_ARGS], runAs, build);
    writeFileSync(path.join(build, '.complete'), `${version}\n`);
    if (existsSync(template) && !complete(template)) rmSync(template, { recursive: true, force: true });
    try {
      renameSync(build, template);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !complete(template)) throw err;
      // Another worker won the race; use theirs.
    }
    return template;
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

function pgBinDir(): string {
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv) return fromEnv;
  const root = '/usr/lib/postgresql';
  const preferred = path.join(root, '15', 'bin');
  if (existsSync(path.join(preferred, 'postgres'))) return preferred;
  try {
    const versions = readdirSync(root)
      .filter((v) => existsSync(path.join(root, v, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return path.join(root, versions[0], 'bin');
  } catch {
    /* not Debian-style */
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('PostgreSQL server binaries not found; set PG_BIN_DIR (e.g. /usr/lib/postgresql/15/bin)');
  }
}

let cachedRunAs: RunAs | undefined;
/** As root, the server must run as an unprivileged user: `postgres` (or $PG_OS_USER). */
function postgresOsUser(): RunAs {
  if (cachedRunAs) return cachedRunAs;
  if (process.getuid?.() !== 0) return (cachedRunAs = {});
  const user = process.env.PG_OS_USER ?? 'postgres';
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    return (cachedRunAs = { uid, gid });
  } catch {
    throw new Error(`running as root but OS user "${user}" does not exist; initdb/postgres refuse to run as root`);
  }
}

function run(cmd: string, args: string[], runAs: RunAs, cwd = os.tmpdir()): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { ...runAs, cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-16_384);
    };
    c.stdout?.on('data', collect);
    c.stderr?.on('data', collect);
    c.once('error', reject);
    c.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output}`));
    });
  });
}

/** True once `url` accepts queries from the cluster in `dataDir` (not a stranger on that port). */
async function servesDataDir(url: string, dataDir: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ dir: string }>("SELECT current_setting('data_directory') AS dir");
    return rows[0]?.dir === dataDir;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Synchronous teardown used by dispose, failures and the process-exit hook: kill whatever is
 * still running (immediate shutdown, then SIGKILL), free a SysV segment a crash left behind,
 * remove the directory.
 */
function teardownSync(postmasterPid: number, dir: string): void {
  if (postmasterPid > 0) {
    const pids = signalCluster(postmasterPid, 'SIGCONT');
    killPid(postmasterPid, 'SIGQUIT'); // immediate shutdown: the postmaster cleans up after itself
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline && !isGoneOrZombie(postmasterPid)) sleepSync(10);
    for (const pid of pids) killPid(pid, 'SIGKILL');
    const deadline2 = Date.now() + 1_000;
    while (Date.now() < deadline2 && !pids.every(isGoneOrZombie)) sleepSync(10);
  }
  releaseLeakedShmem(path.join(dir, 'data'));
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * After SIGKILL, postmaster.pid survives and its small SysV segment leaks (postgres would reuse
 * it on the next start, but we are deleting the cluster). Remove it if nobody is attached.
 */
function releaseLeakedShmem(dataDir: string): void {
  let lines: string[];
  try {
    lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return; // clean shutdown removed it
  }
  const [keyText, idText] = (lines[6] ?? '').trim().split(/\s+/);
  const key = Number(keyText);
  const id = Number(idText);
  if (!Number.isInteger(key) || !Number.isInteger(id) || key === 0) return;
  const ipcs = spawnSync('ipcs', ['-m'], { encoding: 'utf8' });
  if (ipcs.status !== 0) return;
  for (const line of ipcs.stdout.split('\n')) {
    const [k, shmid, , , , nattch] = line.trim().split(/\s+/);
    if (k?.startsWith('0x') && Number.parseInt(k, 16) === key && Number(shmid) === id && nattch === '0') {
      spawnSync('ipcrm', ['-m', String(id)]);
    }
  }
}

/**
 * Signals a cluster. Backends call setsid(), so they are NOT in the postmaster's process group:
 * SIGSTOP/SIGCONT/SIGKILL go to the postmaster and each of its children (found via /proc);
 * SIGTERM/SIGINT/SIGQUIT are postgres' smart/fast/immediate shutdown requests and go to the
 * postmaster only. Returns the pids signalled (postmaster first).
 */
function signalCluster(postmasterPid: number, signal: NodeJS.Signals): number[] {
  if (postmasterPid <= 0) return [];
  if (signal !== 'SIGSTOP' && signal !== 'SIGCONT' && signal !== 'SIGKILL') {
    killPid(postmasterPid, signal);
    return [postmasterPid];
  }
  if (signal === 'SIGCONT') {
    const children = childrenOf(postmasterPid);
    for (const pid of children) killPid(pid, signal);
    killPid(postmasterPid, signal);
    return [postmasterPid, ...children];
  }
  // Freeze the postmaster first so it forks nothing new (and, for SIGKILL, its children are
  // still its children - not yet reparented - when we list them).
  killPid(postmasterPid, 'SIGSTOP');
  const children = childrenOf(postmasterPid);
  killPid(postmasterPid, signal);
  for (const pid of children) killPid(pid, signal);
  return [postmasterPid, ...children];
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

/** Waits (bounded) until all `pids` have exited (zombies count as exited). */
async function waitUntilGone(pids: number[], timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !pids.every(isGoneOrZombie)) await sleep(5);
}

/** Linux: direct children of `pid` (a /proc scan; /proc/<pid>/task/<tid>/children is documented as unreliable). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return children;
  }
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) children.push(Number(entry));
    } catch {
      /* raced with exit */
    }
  }
  return children;
}

function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

function isGoneOrZombie(pid: number): boolean {
  const state = procState(pid);
  if (state !== null) return state === 'Z';
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function waitForProcState(pid: number, ok: (state: string) => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = procState(pid);
    if (state === null || ok(state)) return;
    if (Date.now() > deadline) throw new Error(`process ${pid} still in state ${state} after ${timeoutMs} ms`);
    await sleep(2);
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
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

let reaped = false;
/** Tears down clusters left by test processes that died without running their exit hooks. */
function reapOrphansOnce(): void {
  if (reaped) return;
  reaped = true;
  // Template builds interrupted by a hard kill (a live build takes well under a minute).
  for (const dir of scratchDirs(`${TEMPLATE_PREFIX}build-`)) {
    try {
      if (Date.now() - statSync(dir).mtimeMs > 10 * 60_000) rmSync(dir, { recursive: true, force: true });
    } catch {
      /* raced */
    }
  }
  for (const dir of scratchDirs(DIR_PREFIX)) {
    try {
      const owner = JSON.parse(readFileSync(path.join(dir, OWNER_FILE), 'utf8')) as { ownerPid?: unknown; serverPid?: unknown };
      if (typeof owner.ownerPid !== 'number' || isAlive(owner.ownerPid)) continue;
      let serverPid = -1;
      if (typeof owner.serverPid === 'number' && owner.serverPid > 0) {
        try {
          // Only if that pid is still a postmaster of this cluster (pid reuse).
          if (readlinkSync(`/proc/${owner.serverPid}/cwd`) === realpathSync(path.join(dir, 'data'))) serverPid = owner.serverPid;
        } catch {
          /* gone */
        }
      }
      teardownSync(serverPid, dir);
    } catch {
      /* no owner file yet: maybe being created by a live process */
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
