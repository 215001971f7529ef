/**
 * The metric names a PromQL expression reads, for checking a dashboard and alert rules against
 * /metrics. Not a parser: strings, label matchers, range and subquery brackets, grouping lists
 * (by, without, on, ignoring, group_left, group_right) and Grafana's `$variables` are removed;
 * what is left that names no function (followed by "("), keyword or number is a metric name.
 */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2', 'inf', 'nan']);

export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\boffset\s+\S+/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const id = m[0];
    const after = bare.slice(m.index + id.length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(id.toLowerCase())) continue;
    // A number's exponent or a duration's unit (1e3, 5m) is not a name.
    if (m.index > 0 && /[0-9.]/.test(bare[m.index - 1]!)) continue;
    names.add(id);
  }
  return [...names];
}

/** The `expr:` of every rule in a rules file as docs/alerts.yml writes it (one line, or a `>-` block). */
export function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    if (!/^[>|]-?$/.test(m[2]!)) return void out.push(m[2]!.replace(/^'(.*)'$/, '$1'));
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || indent(lines[j]!) > m[1]!.length); j++) block.push(lines[j]!.trim());
    out.push(block.join(' '));
  });
  return out;
}

/** Names a rules file defines itself (`record:`), which need no exporter. */
export function recordedNames(yaml: string): string[] {
  return [...yaml.matchAll(/^\s*-?\s*record:\s*(\S+)/gm)].map((m) => m[1]!);
}

const indent = (line: string) => line.length - line.trimStart().length;

/** Is `name` on /metrics: a family, or a histogram's or summary's _bucket, _sum or _count series? */
export function exported(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const type = types.get(m[1]!);
  return type === 'histogram' || (type === 'summary' && m[2] !== 'bucket');
}
