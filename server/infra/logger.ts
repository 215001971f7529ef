import { pino, type Logger } from 'pino';
import type { Config } from '../config';

export type { Logger };
export function createLogger(cfg: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({ level: cfg.LOG_LEVEL, base: { svc: 'rendezvous', pid: process.pid } });
}
