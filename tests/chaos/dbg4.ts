import { setTimeout as pause } from 'node:timers/promises';
import { startInProcess } from './lib/systems';
import { Load } from './lib/load';
const sys = await startInProcess({});
const load = await Load.connect(sys.urls, 12);
const t0 = Date.now();
load.start();
await pause(2000);
await load.settle();
const by = new Map<string, number>();
for (const c of load.calls) { const k = `${c.op}:${c.ok ? 'ok' : c.code}`; by.set(k, (by.get(k) ?? 0) + 1); }
console.log(Date.now() - t0, [...by.entries()]);
const lat = load.calls.map((c) => c.ms).sort((a, b) => a - b);
console.log('p50', lat[Math.floor(lat.length / 2)], 'p99', lat[Math.floor(lat.length * 0.99)]);
await load.close();
await sys[Symbol.asyncDispose]();
process.exit(0);
