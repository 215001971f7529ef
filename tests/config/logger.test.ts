/**
 * What `npm start` prints: readable lines for a person at a terminal outside production, JSON
 * lines everywhere else (production, or output going to a file or a log shipper).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Logs one line from a child process, the logger told whether stdout is a terminal. */
function logLine(env: 'development' | 'production', terminal: boolean): string {
  const script = `
    const { createLogger } = await import('./server/infra/logger.ts');
    createLogger({ LOG_LEVEL: 'info', NODE_ENV: '${env}' }, ${terminal}).info({ port: 3000 }, 'Rendezvous is listening');
  `;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
}

describe('log lines', () => {
  it('at a terminal in development they are readable: time, level and message, no JSON', () => {
    const out = logLine('development', true);
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Rendezvous is listening/);
    expect(out).toContain('port: 3000');
  });

  it('in production, or when nobody watches, they are JSON', () => {
    for (const [env, terminal] of [
      ['production', true],
      ['development', false],
    ] as const) {
      const line = JSON.parse(logLine(env, terminal)) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 30, msg: 'Rendezvous is listening', port: 3000, svc: 'rendezvous' });
    }
  });
});
