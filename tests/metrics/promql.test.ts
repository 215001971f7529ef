import { describe, expect, it } from 'vitest';
import { exported, metricNames, recordedNames, ruleExpressions } from './promql';

describe('reading metric names out of PromQL', () => {
  it('finds the metrics and skips functions, label matchers, ranges, grouping, keywords, numbers and variables', () => {
    const e =
      'histogram_quantile(0.95, sum by (le, procedure) (rate(trpc_request_duration_seconds_bucket{code!="OK",x=~"a|b"}[$__rate_interval]))) > 1e3 ' +
      'and on () sum(increase(matches_total[5m] offset 1h)) == 0 unless max without (instance) (queue_depth{pool=~"$pool"}) * 60';
    expect(metricNames(e).sort()).toEqual(['matches_total', 'queue_depth', 'trpc_request_duration_seconds_bucket']);
  });

  it('reads one-line and folded (>-) expressions and recorded names from a rules file', () => {
    const yaml = [
      'groups:',
      '  - name: g',
      '    rules:',
      '      - record: job:x:rate5m',
      '        expr: sum(rate(x_total[5m]))',
      '      - alert: A',
      '        expr: >-',
      '          max(a_seconds) > 5',
      '          and',
      '          sum(b_total) > 1',
      '        for: 1m',
    ].join('\n');
    expect(ruleExpressions(yaml)).toEqual(['sum(rate(x_total[5m]))', 'max(a_seconds) > 5 and sum(b_total) > 1']);
    expect(recordedNames(yaml)).toEqual(['job:x:rate5m']);
  });

  it("a histogram's _bucket, _sum and _count series count as exported; a counter's do not", () => {
    const types = new Map([
      ['h_seconds', 'histogram'],
      ['c_total', 'counter'],
    ]);
    expect(['h_seconds', 'h_seconds_bucket', 'h_seconds_sum', 'h_seconds_count', 'c_total'].every((n) => exported(n, types))).toBe(true);
    expect(exported('c_total_count', types)).toBe(false);
    expect(exported('missing_total', types)).toBe(false);
  });
});
