/**
 * Benchmark output: readable tables for people, then exactly one JSON line of figures as the
 * last line on stdout (what scripts and docs/benchmarks.md read). Progress goes to stderr.
 */
import os from 'node:os';

export type Cell = string | number;

/** Prints an aligned table; numbers are right-aligned. */
export function printTable(title: string, rows: Array<Record<string, Cell>>): void {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const text = (v: Cell | undefined) => (v === undefined ? '' : typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 3 }) : v);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: string[], numeric: boolean[]) => cells.map((c, i) => (numeric[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ');
  const out = [
    `\n${title}`,
    line(
      cols,
      cols.map(() => false),
    ),
    width.map((w) => '-'.repeat(w)).join('  '),
  ];
  for (const r of rows)
    out.push(
      line(
        cols.map((c) => text(r[c])),
        cols.map((c) => typeof r[c] === 'number'),
      ),
    );
  process.stdout.write(out.join('\n') + '\n');
}

/** The final line of a benchmark: one JSON object. */
export function printResult(figures: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(figures) + '\n');
}

export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** The machine, for the record next to the figures. */
export function machine(): Record<string, Cell> {
  return {
    cpus: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    load1m: Math.round(os.loadavg()[0]! * 100) / 100,
  };
}
