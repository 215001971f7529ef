/**
 * The one logger. JSON lines (what log shippers read), except for a person watching a terminal
 * outside production: then pino-pretty's readable lines, written synchronously on this thread
 * (no worker), so start-up and shutdown lines are never lost.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config';

export type { Logger };

export function createLogger(cfg: Pick<Config, 'LOG_LEVEL' | 'NODE_ENV'>, terminal = process.stdout.isTTY === true): Logger {
  const opts = { level: cfg.LOG_LEVEL, base: { svc: 'rendezvous', pid: process.pid } };
  if (cfg.NODE_ENV === 'production' || !terminal) return pino(opts);
  return pino(opts, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'svc,pid,hostname' }));
}
