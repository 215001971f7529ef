/**
 * Command-line options of a benchmark: numbers and strings only, each with a default and a line of
 * help. Every benchmark gets `--duration SECONDS` for free. `--help` prints the options and exits.
 *
 *   const args = benchArgs('transitions', { rate: { default: 10_000, help: 'offered transitions/s' } });
 *   args.duration; args.rate;
 */
import { parseArgs } from 'node:util';

type Spec = Record<string, { default: number | string; help: string }>;
type Parsed<S extends Spec> = { duration: number } & { [K in keyof S]: S[K]['default'] extends number ? number : string };

export class BenchArgError extends Error {
  readonly code = 'BENCH_ARG';
}

export function benchArgs<S extends Spec>(name: string, spec: S, argv: string[] = process.argv.slice(2)): Parsed<S> {
  const all: Spec = { duration: { default: 10, help: 'seconds per measured phase' }, ...spec };
  const { values } = parseArgs({
    args: argv,
    options: { help: { type: 'boolean' }, ...Object.fromEntries(Object.keys(all).map((k) => [k, { type: 'string' as const }])) },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    const lines = Object.entries(all).map(([k, v]) => `  --${k.padEnd(14)} ${v.help} (default ${String(v.default)})`);
    process.stdout.write(`Usage: npm run bench:${name} -- [options]\n${lines.join('\n')}\n`);
    process.exit(0);
  }
  const given = values as Record<string, string | boolean | undefined>;
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(all)) {
    const raw = given[k];
    if (typeof raw !== 'string') {
      out[k] = v.default;
    } else if (typeof v.default === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) throw new BenchArgError(`--${k} must be a positive number, got "${raw}"`);
      out[k] = n;
    } else {
      out[k] = raw;
    }
  }
  return out as Parsed<S>;
}
