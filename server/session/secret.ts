/** SESSION_SECRET, or outside production a random one generated once into DATA_DIR. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config';
import { StartupError } from '../infra/embedded-redis';

export function resolveSessionSecret(cfg: Config): string {
  if (cfg.SESSION_SECRET) return cfg.SESSION_SECRET;
  if (cfg.NODE_ENV === 'production') throw new StartupError('SESSION_SECRET must be set in production (32+ characters).');
  const file = join(cfg.DATA_DIR, 'session-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(cfg.DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
