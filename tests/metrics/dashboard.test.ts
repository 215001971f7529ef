/**
 * The Grafana dashboard (docs/grafana/rendezvous.json) and the alert rules (docs/alerts.yml) query
 * only metrics a running server exports: every name in every expression is looked up on the
 * /metrics of a real test server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app';
import { exported, metricNames, recordedNames, ruleExpressions } from './promql';
import { scrape } from './scrape';

const DOCS = join(import.meta.dirname, '../../docs');

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
}

const dashboard = JSON.parse(readFileSync(join(DOCS, 'grafana/rendezvous.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query: unknown }> };
};
const rules = readFileSync(join(DOCS, 'alerts.yml'), 'utf8');
const panels = dashboard.panels.filter((p) => p.type !== 'row');

function dashboardExpressions(): string[] {
  const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of dashboard.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query: string }).query;
    // Grafana's label_values(metric, label) reads `metric`.
    const lv = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/.exec(q);
    exprs.push(lv ? lv[1]! : q);
  }
  return exprs;
}

describe('the dashboard and the alert rules', () => {
  it('the dashboard is a Grafana dashboard on a Prometheus datasource variable, with the panels operators need', () => {
    expect(dashboard.uid).toBe('rendezvous');
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.datasource?.uid, p.title).toBe('${datasource}');
    }
    const metricsOf = (title: string) => metricNames((panels.find((p) => p.title === title)?.targets ?? []).map((t) => t.expr).join(' '));
    const wanted: Record<string, string[]> = {
      'Users per state': ['users'],
      'Queue depth': ['queue_depth'],
      'Wait before a match (p50, p95)': ['match_wait_seconds_bucket'],
      'Matches per minute': ['matches_total'],
      'Connection funnel per minute': ['funnel_total'],
      'Missing share': ['funnel_total'],
      'Media failures and relayed share': ['media_failures_total', 'media_paths_total'],
      'Ghost matches per minute': ['ghost_matches_total'],
      'Calls per second by procedure': ['trpc_requests_total'],
      'Errors by procedure and code': ['trpc_requests_total'],
      'p95 duration by procedure': ['trpc_request_duration_seconds_bucket'],
      'WebSocket connections and subscriptions': ['ws_connections', 'ws_subscriptions'],
      'Event-loop lag': ['nodejs_eventloop_lag_p99_seconds'],
      'Circuit breakers': ['breaker_state'],
      'Errors by category': ['errors_total'],
      'Audit lag': ['outbox_lag_seconds'],
      'Dead letters': ['dead_letters_total'],
      'Rate-limit refusals per minute': ['rate_limited_total'],
      'Reports and sanctions per hour': ['reports_total', 'sanctions_total'],
    };
    for (const [title, names] of Object.entries(wanted)) expect(metricsOf(title), title).toEqual(expect.arrayContaining(names));
  });

  it('the alert rules cover the symptoms: matching stalled, missing share, wait p95, error rate, breaker open, audit lag', () => {
    const alertExpr = (name: string) => {
      const at = rules.indexOf(`- alert: ${name}\n`);
      expect(at, name).toBeGreaterThanOrEqual(0);
      return metricNames(ruleExpressions(rules.slice(at)).at(0) ?? '');
    };
    expect(alertExpr('MatchingStalled')).toEqual(expect.arrayContaining(['queue_depth', 'matches_total', 'kill_switch']));
    expect(alertExpr('FunnelMissingShareHigh')).toEqual(['funnel_total']);
    expect(alertExpr('MatchWaitP95High')).toEqual(['match_wait_seconds_bucket']);
    expect(alertExpr('ProcedureErrorRate')).toEqual(['trpc_requests_total']);
    expect(alertExpr('CircuitBreakerOpen')).toEqual(['breaker_state']);
    expect(alertExpr('OutboxLag')).toEqual(['outbox_lag_seconds']);
  });

  it('every metric the dashboard and the alert rules query is on the /metrics of a running server', async () => {
    await using app = await startTestApp({}, { background: false });
    const { types } = await scrape(app.url);
    const recorded = new Set(recordedNames(rules));
    const exprs = [...dashboardExpressions(), ...ruleExpressions(rules)];
    expect(exprs.length).toBeGreaterThan(30);
    const used = new Set(exprs.flatMap(metricNames).filter((n) => !recorded.has(n)));
    const missing = [...used].filter((n) => !exported(n, types));
    expect(missing).toEqual([]);
  });
});
