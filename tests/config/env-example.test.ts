/**
 * Every setting documented in .env.example does something: the config loader reads it, and a
 * different valid value gives a different configuration, as the server uses it (the Config
 * object and the resilience policies' numbers derived from it). A variable documented but
 * ignored fails here: zod drops keys the schema does not know, so loading it changes nothing.
 * And every setting the schema reads is used by the server (its name appears in server/ outside
 * the schema), so a variable the code stopped reading fails too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../server/config';
import { resilienceConfigFromEnv } from '../../server/resilience/env';

const ROOT = join(import.meta.dirname, '../..');

/** `KEY=value` lines of .env.example, commented out or not. */
function documented(): Array<[key: string, example: string]> {
  const text = readFileSync(join(ROOT, '.env.example'), 'utf8');
  return [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()]);
}

/**
 * Variables read elsewhere than the config loader, each with where it is read. None today:
 * everything in .env.example goes through configSchema (server/config.ts).
 */
const READ_ELSEWHERE: Record<string, string> = {};

/** Values to try for variables whose example cannot simply be nudged. */
const ALTERNATIVES: Record<string, string[]> = {
  NODE_ENV: ['production', 'test', 'development'],
  LOG_LEVEL: ['debug', 'warn', 'info'],
  LIVEKIT_API_SECRET: ['a-livekit-api-secret-of-at-least-32-characters'],
  ICE_SERVERS: ['[{"urls":"stun:stun.example.com:3478"}]', '[]'],
  WS_ADAPTER: ['stock', 'lean'],
};

/** Different values to try for a variable, starting from its documented example. */
function candidates(key: string, example: string): string[] {
  const out = [...(ALTERNATIVES[key] ?? [])];
  if (/^-?\d+$/.test(example)) {
    const n = Number(example);
    out.push(...[n + 1, n * 2, n - 1, 1, 0, 2].map(String));
  } else if (/^\d+\/\d+(ms|s|m|h)$/.test(example)) {
    // A rate (<points>/<window>): one point more.
    const [points, window] = example.split('/');
    out.push(`${Number(points) + 1}/${window}`);
  } else if (/^\d*\.\d+$/.test(example)) {
    out.push('0.25', '0.75');
  } else if (example === 'true' || example === 'false') {
    out.push(example === 'true' ? 'false' : 'true');
  } else if (['exponential', 'linear', 'fixed'].includes(example)) {
    out.push('linear', 'fixed');
  } else if (/^[a-z][a-z0-9+]*:\/\//.test(example)) {
    const url = new URL(example);
    url.port = String(Number(url.port || 80) + 1);
    out.push(url.toString().replace(/\/$/, example.endsWith('/') ? '/' : ''));
  } else if (example.includes(',')) {
    out.push(example.split(',').slice(0, 2).join(','));
  } else if (example.startsWith('https://')) {
    out.push('https://other.example.com');
  } else {
    out.push(`${example}x`, 'something-else-entirely-of-32-characters', 'x');
  }
  return out.filter((v) => v !== example);
}

/** The configuration as the server uses it. */
function view(env: Record<string, string>): unknown {
  const cfg = loadConfig(env);
  return { cfg, resilience: resilienceConfigFromEnv(cfg) };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

describe('.env.example', () => {
  const vars = documented();
  const baseline = view({});

  it('lists variables (the parse itself works)', () => {
    expect(vars.length).toBeGreaterThan(50);
    expect(new Set(vars.map(([k]) => k)).size).toBe(vars.length);
  });

  it('every documented variable is read by the config loader and a different value changes the configuration', () => {
    const ignored: string[] = [];
    for (const [key, example] of vars) {
      if (key in READ_ELSEWHERE) continue;
      const changes = candidates(key, example).some((value) => {
        try {
          return !isDeepStrictEqual(view({ [key]: value }), baseline);
        } catch {
          return false; // not a valid value for this variable: try the next
        }
      });
      if (!changes) ignored.push(key);
    }
    expect(ignored).toEqual([]);
  });

  it('every variable read elsewhere than the config loader is documented, and read where it says', () => {
    const names = new Set(vars.map(([k]) => k));
    for (const [key, where] of Object.entries(READ_ELSEWHERE)) {
      expect(names, key).toContain(key);
      expect(readFileSync(join(ROOT, where), 'utf8'), `${key} in ${where}`).toContain(key);
    }
  });

  it('documents every variable of the config schema, and nothing the server does not use', () => {
    const keys = Object.keys(configSchema.shape);
    expect(vars.map(([k]) => k).filter((k) => !keys.includes(k) && !(k in READ_ELSEWHERE))).toEqual([]);
    expect(keys.filter((k) => !vars.some(([v]) => v === k))).toEqual([]);
    // Read outside the schema: by name (cfg.X, env.X), or, for the resilience policies, through
    // resilienceConfigFromEnv, which builds each name from its dependency (RESILIENCE_${d}_...).
    const code = filesUnder(join(ROOT, 'server'))
      .filter((f) => !f.endsWith(join('server', 'config.ts')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const templated = /^RESILIENCE_(REDIS|POSTGRES)_/;
    expect(keys.filter((k) => !templated.test(k) && !new RegExp(`\\b${k}\\b`).test(code.replace(/^\s*[A-Z0-9_]+: .*$/gm, '')))).toEqual([]);
  });
});
