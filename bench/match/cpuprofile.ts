/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, as written by `npm run bench -- --profile DIR`):
 * self time by function and by package or file, heaviest first. Usage:
 *   npx tsx bench/match/cpuprofile.ts DIR_OR_FILE [--top 25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const target = positionals[0];
if (!target) throw new Error('usage: cpuprofile.ts DIR_OR_FILE [--top N]');
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(target, f))
  : [target];

/** node_modules package, node internals, or the repo file. */
function area(url: string): string {
  if (!url) return '(native/gc/idle)';
  if (url.startsWith('node:')) return url;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const repo = /\/work\/[^/]+\/(.*)$/.exec(url.replace('file://', ''));
  return repo ? repo[1]! : url;
}

const byFn = new Map<string, number>();
const byArea = new Map<string, number>();
let total = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  p.samples.forEach((id, i) => {
    const n = nodes.get(id)!;
    const us = p.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)' || functionName === '(program)') return;
    total += us;
    const fn = `${functionName || '(anonymous)'} ${area(url)}:${lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
    const a = functionName === '(garbage collector)' ? '(garbage collector)' : area(url);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
  });
}

const top = Number(values.top);
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (busy ${(total / 1000).toFixed(0)} ms)\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
  }
};
show('self time by package / file', byArea);
show('self time by function', byFn);
