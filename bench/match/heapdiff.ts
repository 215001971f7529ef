/**
 * Diffs two V8 heap snapshots (as bench/match/heap.ts --snapshots writes them) by node type and
 * constructor name: how many objects and bytes (self size) each kind gained, divided by `--per`
 * (the clients that connected in between).
 *
 *   npx tsx bench/match/heapdiff.ts DIR/s0.heapsnapshot DIR/s1.heapsnapshot --per 1000 [--top 40]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { per: { type: 'string', default: '1' }, top: { type: 'string', default: '40' } },
});
const [before, after] = positionals;
if (!before || !after) throw new Error('usage: heapdiff.ts S0 S1 --per N [--top N]');
const per = Number(values.per);

/** Count and self size per "type :: name" (strings and code lumped by type). */
function tally(path: string): Map<string, { count: number; size: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const [iType, iName, iSize] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const type = types[s.nodes[i + iType]!]!;
    const lumped = type.includes('string') || type === 'code' || type === 'number';
    const key = lumped ? type : `${type} :: ${s.strings[s.nodes[i + iName]!]!.slice(0, 60)}`;
    const e = out.get(key) ?? { count: 0, size: 0 };
    e.count++;
    e.size += s.nodes[i + iSize]!;
    out.set(key, e);
  }
  return out;
}

const a = tally(before);
const b = tally(after);
const rows = [...b].map(([key, v]) => {
  const o = a.get(key) ?? { count: 0, size: 0 };
  return { key, count: (v.count - o.count) / per, bytes: (v.size - o.size) / per };
});
rows.sort((x, y) => y.bytes - x.bytes);
process.stdout.write(`self size gained per unit: ${rows.reduce((t, r) => t + r.bytes, 0).toFixed(0)} bytes\n`);
for (const r of rows.slice(0, Number(values.top))) {
  process.stdout.write(`${r.bytes.toFixed(1).padStart(9)} B  x${r.count.toFixed(2).padStart(7)}  ${r.key}\n`);
}
