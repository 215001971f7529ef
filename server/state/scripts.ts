/**
 * Loads the Lua scripts once per Redis client with ioredis `defineCommand` (EVALSHA with a
 * transparent fallback to EVAL) and exposes typed wrappers. Each script file is named
 * `<name>-<numberOfKeys>.lua`; lib.lua and match-lib.lua are prepended to every one, after the
 * transition table from states.ts.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { luaTransitionTable } from './states';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'scripts');
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
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

type ScriptCall = (key: string, prefix: string, now: number, options: string) => Promise<string>;
export type ScriptClient = Redis & Record<`rv_${ScriptName}`, ScriptCall>;

let cachedSources: Map<ScriptName, { lua: string; numberOfKeys: number }> | undefined;

function sources(): Map<ScriptName, { lua: string; numberOfKeys: number }> {
  if (cachedSources) return cachedSources;
  const header = `local ALLOWED = ${luaTransitionTable()}\n` + LIBS.map((f) => readFileSync(join(DIR, f), 'utf8')).join('\n');
  const out = new Map<ScriptName, { lua: string; numberOfKeys: number }>();
  for (const file of readdirSync(DIR)) {
    const m = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
    if (!m) continue;
    const name = m[1] as ScriptName;
    if (!SCRIPT_NAMES.includes(name)) throw new Error(`Unknown script file ${file}`);
    out.set(name, { lua: `${header}\n${readFileSync(join(DIR, file), 'utf8')}`, numberOfKeys: Number(m[2]) });
  }
  for (const n of SCRIPT_NAMES) if (!out.has(n)) throw new Error(`Missing script ${n}`);
  cachedSources = out;
  return out;
}

/** Define every script on this client (idempotent). */
export function defineScripts(redis: Redis): ScriptClient {
  const client = redis as ScriptClient;
  for (const [name, { lua, numberOfKeys }] of sources()) {
    if (typeof (client as unknown as Record<string, unknown>)[`rv_${name}`] === 'function') continue;
    redis.defineCommand(`rv_${name}`, { lua, numberOfKeys });
  }
  return client;
}
