import { setTimeout as pause } from 'node:timers/promises';
import pg from 'pg';
import { startInProcess } from './lib/systems';
import { Load } from './lib/load';
const origEmit = pg.Client.prototype.emit;
pg.Client.prototype.emit = function (this: pg.Client & { release?: unknown }, ev: string, ...args: unknown[]) {
  if (ev === 'error' && this.listenerCount('error') === 0) {
    console.error('UNHANDLED pg client error; pool client checked out:', typeof this.release === 'function', String(args[0]));
    return true; // swallow so we can keep counting
  }
  return origEmit.call(this, ev, ...args);
} as typeof pg.Client.prototype.emit;
const sys = await startInProcess({ privatePostgres: true });
const load = await Load.connect(sys.urls, 24);
load.start();
await pause(1500);
for (let i = 0; i < 6; i++) {
  await sys.deps.postgres!.stop();
  console.error('stopped', i);
  await pause(1000);
  await sys.deps.postgres!.start();
  await pause(1000);
}
await load.close();
await sys[Symbol.asyncDispose]();
process.exit(0);
