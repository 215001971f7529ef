/**
 * The state scripts: one Lua file per operation, `<name>-<numberOfKeys>.lua`, each with a header
 * listing its KEYS, ARGV and reply. They share lib.lua (always), match-lib.lua and
 * presence-lib.lua (for the scripts that use them).
 *
 * How they reach Redis:
 *   - `function` (Redis 7+): every script becomes one function of a single Redis Functions
 *     library, loaded once per Redis; a call is FCALL. The shared libraries run once at load
 *     time, not on every call as with EVALSHA (a quarter of the cost of a transition, measured by
 *     bench:transitions). A Redis that lost its functions (restarted empty, FUNCTION FLUSH) gets
 *     the library again on the next call, which then fails with LibraryReloadedError: nothing
 *     ran, and the caller runs it again through its guards (StateStore re-checks that Redis's
 *     data is ours first: a Redis without our functions has just restarted).
 *   - `eval` (a Redis without FUNCTION, or on request): each script is the libraries plus its body,
 *     defined with ioredis `defineCommand` (EVALSHA, falling back to EVAL).
 * The library's name carries a hash of its text, so processes running different versions of the
 * scripts against one Redis each call their own.
 *
 * The other domains' scripts (`server/<domain>/scripts/<name>-<numberOfKeys>.lua`: room records,
 * version seeding, the cleanup lock) are standalone (plain KEYS and ARGV, none of the libraries)
 * and live in the same library as `<domain>_<name>`, called with `call()`: one loader for every
 * script, with the same EVAL fallback.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { masters, type RedisClient } from '../infra/redis';
import { WriteBatcher } from '../shared/write-batch';
import { luaTransitionTable } from './states';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'scripts');
/** The other domains' script folders (server/<domain>/scripts). */
const SERVER = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOMAINS_WITH_SCRIPTS = ['rooms', 'checkpoint', 'presence'];
const LIBS = ['lib.lua', 'match-lib.lua', 'presence-lib.lua'];

export const SCRIPT_NAMES = [
  'enqueue',
  'cancel',
  'leave',
  'joined',
  'expire',
  'sweep',
  'rollback',
  'force',
  'repair',
  'relay',
  'transition',
  'presence',
  'graces',
  'announce',
  'depart',
  'notify',
  'close',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];
export type ScriptMode = 'function' | 'eval';

interface Sources {
  /** Each script's text for EVAL: the libraries it uses, then its body. */
  scripts: Map<ScriptName, { lua: string; numberOfKeys: number }>;
  /** The other domains' standalone scripts by `<domain>_<name>`, as they are. */
  standalone: Map<string, { lua: string; numberOfKeys: number }>;
  /** The Redis Functions library with every script, and its name. */
  library: { name: string; lua: string };
}

/** Names a Lua chunk defines at its top level (`local function f`, `local X =`, `local X, Y`). */
function definedNames(lua: string): string[] {
  return [...lua.matchAll(/^local (?:function )?([A-Za-z_][A-Za-z0-9_, ]*)/gm)].flatMap((m) => m[1]!.split(',').map((n) => n.trim()));
}

/**
 * The libraries a script uses, directly or through a library it uses (decided from the last
 * library back to the first); lib.lua always.
 */
export function librariesFor(libs: string[], body: string): string[] {
  const [base, ...optional] = libs;
  const chosen: string[] = [];
  let needing = body;
  for (const lib of optional.reverse()) {
    if (definedNames(lib).some((n) => new RegExp(`\\b${n}\\b`).test(needing))) {
      chosen.unshift(lib);
      needing += `\n${lib}`;
    }
  }
  return [base!, ...chosen];
}

/** How every state script starts: begin_call (lib.lua) sets the call's state, or refuses it with a reply. */
const BEGIN = 'local refused = begin_call(ARGV) if refused then return refused end';

/** A script's text for EVAL: the transition table, its libraries, then its body. */
export function assemble(libs: string[], body: string): string {
  return [`local ALLOWED = ${luaTransitionTable()}`, ...librariesFor(libs, body), BEGIN, body].join('\n');
}

/** The scripts as files on disk make them (read once per Scripts instance). */
function loadSources(): Sources {
  const libs = LIBS.map((f) => readFileSync(join(DIR, f), 'utf8'));
  const scripts = new Map<ScriptName, { lua: string; numberOfKeys: number }>();
  const bodies: Array<[ScriptName, string]> = [];
  for (const file of readdirSync(DIR).sort()) {
    const m = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
    if (!m) continue;
    const name = m[1] as ScriptName;
    if (!SCRIPT_NAMES.includes(name)) throw new Error(`Unknown script file ${file}`);
    const body = readFileSync(join(DIR, file), 'utf8');
    scripts.set(name, { lua: assemble(libs, body), numberOfKeys: Number(m[2]) });
    bodies.push([name, body]);
  }
  for (const n of SCRIPT_NAMES) if (!scripts.has(n)) throw new Error(`Missing script ${n}`);
  const standalone = new Map<string, { lua: string; numberOfKeys: number }>();
  for (const domain of DOMAINS_WITH_SCRIPTS) {
    const dir = join(SERVER, domain, 'scripts');
    for (const file of readdirSync(dir).sort()) {
      const m = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
      if (m) standalone.set(`${domain}_${m[1]!.replace(/-/g, '_')}`, { lua: readFileSync(join(dir, file), 'utf8'), numberOfKeys: Number(m[2]) });
    }
  }
  const shared = [`local ALLOWED = ${luaTransitionTable()}`, ...libs].join('\n');
  const name = `rv_${createHash('sha1')
    .update(shared)
    .update(JSON.stringify(bodies))
    .update(JSON.stringify([...standalone]))
    .digest('hex')
    .slice(0, 12)}`;
  const functions = bodies.map(([n, body]) => `redis.register_function('${name}_${n}', function(KEYS, ARGV)\n${BEGIN}\n${body}\nend)`);
  const others = [...standalone].map(([n, { lua }]) => `redis.register_function('${name}_${n}', function(KEYS, ARGV)\n${lua}\nend)`);
  return { scripts, standalone, library: { name, lua: [`#!lua name=${name}`, shared, ...functions, ...others].join('\n') } };
}

/** The script library was missing (Redis restarted empty) and is loaded again; the call did not run. */
export class LibraryReloadedError extends Error {
  constructor() {
    super('The state scripts were missing in Redis and have been loaded again; the call did not run.');
    this.name = 'LibraryReloadedError';
  }
}

type ScriptCall = (key: string, epochKey: string, prefix: string, now: number, options: string, limits: string) => Promise<string>;
type EvalClient = RedisClient & Record<`rv_${ScriptName}`, ScriptCall>;

const MISSING_FUNCTION = /Function not found/i;
const NO_FUNCTIONS = /unknown command|unknown subcommand/i;
const ALREADY_LOADED = /already exists/i;

/** Runs the state scripts on one Redis client; see the file header for the two modes. */
export class Scripts {
  private readonly redis: RedisClient;
  private mode: ScriptMode | undefined;
  private loading: Promise<void> | null = null;
  private readonly sources = loadSources();
  /** `<library>_<script>` per script, built once (run() is the hot path). */
  private readonly functionNames = new Map(SCRIPT_NAMES.map((n) => [n, `${this.sources.library.name}_${n}`]));

  constructor(
    redis: RedisClient,
    mode?: ScriptMode,
    private readonly writes: WriteBatcher = new WriteBatcher(),
  ) {
    this.redis = redis;
    this.mode = mode;
    if (mode === 'eval') this.defineEval();
  }

  /** The library's name (all its functions are `<name>_<script>`). */
  static libraryName(): string {
    return loadSources().library.name;
  }

  async run(name: ScriptName, key: string, prefix: string, now: number, options: string, limits: string): Promise<string> {
    // The script calls of one event-loop turn (many users' actions under load) go out in one write
    // (on one Redis; a cluster has a connection per node).
    if (this.redis instanceof Redis) this.writes.batch(this.redis.stream);
    // The pool's epoch is the second key (lib.lua's calling convention).
    const epochKey = `${prefix}epoch`;
    if (this.evalMode) return (this.redis as EvalClient)[`rv_${name}`](key, epochKey, prefix, now, options, limits);
    const fn = this.functionNames.get(name)!;
    try {
      return (await this.redis.fcall(fn, 2, key, epochKey, prefix, now, options, limits)) as string;
    } catch (e) {
      const msg = String((e as Error)?.message);
      // No such function (Redis lost it), or no FCALL at all (a Redis before 7: load() switches to EVAL).
      if (!MISSING_FUNCTION.test(msg) && !NO_FUNCTIONS.test(msg)) throw e;
    }
    await this.load();
    throw new LibraryReloadedError();
  }

  /**
   * Runs another domain's standalone script (`<domain>_<name>`). A library Redis lost is loaded
   * again and the call made once more (these scripts are not behind the state scripts' epoch check).
   */
  async call<T>(name: string, keys: string[], args: Array<string | number>, reloaded = false): Promise<T> {
    if (!this.sources.standalone.has(name)) throw new Error(`No script ${name}`);
    if (this.evalMode) return (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<T>>)[`rv_${name}`]!(...keys, ...args);
    const fn = `${this.sources.library.name}_${name}`;
    try {
      return (await this.redis.fcall(fn, keys.length, ...keys, ...args)) as T;
    } catch (e) {
      const msg = String((e as Error)?.message);
      if (reloaded || (!MISSING_FUNCTION.test(msg) && !NO_FUNCTIONS.test(msg))) throw e;
    }
    await this.load();
    return this.call(name, keys, args, true);
  }

  private get evalMode(): boolean {
    return this.mode === 'eval';
  }

  /**
   * Load the library (once at a time) on the Redis, or on every master of a cluster (a master
   * that lost it, or a new one, is loaded again); on a Redis without functions, switch to EVAL
   * for good.
   */
  private load(): Promise<void> {
    const loadOn = (r: Redis) =>
      r.call('FUNCTION', 'LOAD', this.sources.library.lua).then(
        () => undefined,
        (e: unknown) => {
          if (!ALREADY_LOADED.test(String((e as Error)?.message))) throw e;
        },
      );
    this.loading ??= Promise.all(masters(this.redis).map(loadOn))
      .then(
        () => undefined,
        (e: unknown) => {
          if (NO_FUNCTIONS.test(String((e as Error)?.message)) && this.mode === undefined) {
            this.mode = 'eval';
            this.defineEval();
            return;
          }
          throw e;
        },
      )
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }

  private defineEval(): void {
    const client = this.redis as unknown as Record<string, unknown>;
    for (const [name, { lua, numberOfKeys }] of [...this.sources.scripts, ...this.sources.standalone]) {
      if (typeof client[`rv_${name}`] === 'function') continue;
      this.redis.defineCommand(`rv_${name}`, { lua, numberOfKeys });
    }
  }
}
