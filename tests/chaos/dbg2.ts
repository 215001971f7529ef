import { SCENARIOS } from './scenarios';
process.on('unhandledRejection', (e) => { console.error('UNHANDLED', e instanceof Error ? e.stack : e); });
const name = process.argv[2]!;
const s = SCENARIOS.find((x) => x.name === name)!;
const t0 = Date.now();
try {
  const r = await s.run({ durationScale: Number(process.argv[3] ?? 0.1), users: 12, log: (l) => console.error(Date.now() - t0, l) });
  console.log(JSON.stringify(r, null, 1));
} catch (e) { console.error('ERR', e); }
console.log('total', Date.now() - t0);
process.exit(0);
