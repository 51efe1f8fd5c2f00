import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Panel } from '@grafana/schema';
import { kpiDashboard } from '../src/kpi-dashboard.js';
import { kpiMetrics, releaseKpis } from '../src/release-kpis.js';
import type { HistoryEntry } from '../src/history.js';

// A history with every kind of figure: the series kpiMetrics writes are all there to be read.
const at = (minute: number) => new Date(Date.UTC(2026, 11, 1, 12, minute)).toISOString();
const history: HistoryEntry[] = [
  {
    action: 'rollback',
    revision: 3,
    digest: 'sha256:a',
    colour: 'blue',
    at: at(9),
    seconds: 0.4,
    fromRevision: 2,
    trigger: 'manual',
  },
  { action: 'analysis', revision: 2, digest: 'sha256:b', colour: 'green', at: at(8), seconds: 60, outcome: 'failed' },
  {
    action: 'deploy',
    revision: 2,
    digest: 'sha256:b',
    colour: 'green',
    at: at(5),
    seconds: 40,
    leadSeconds: 300,
    outcome: 'live',
  },
  {
    action: 'deploy',
    revision: 1,
    digest: 'sha256:a',
    colour: 'blue',
    at: at(0),
    seconds: 30,
    leadSeconds: 200,
    outcome: 'live',
  },
];

const panels = () => (kpiDashboard().panels ?? []) as Panel[];
const exprs = () => panels().flatMap((p) => (p.targets ?? []).map((t) => String((t as { expr?: string }).expr)));

describe('the release KPIs dashboard', () => {
  it('reads only series that verify-rollback pushes, with label values it writes', () => {
    const pushed = kpiMetrics(releaseKpis(history));
    const samples = pushed.split('\n').filter((l) => l && !l.startsWith('#'));
    const names = new Set(samples.map((l) => /^[a-z_]+/.exec(l)![0]));
    for (const expr of exprs()) {
      const used = expr.match(/deploy_suite_[a-z_]+/g) ?? [];
      expect(used.length).toBeGreaterThan(0);
      for (const name of used) expect(names).toContain(name);
      // Every fixed label value it selects (quantile="0.95") is one a pushed sample has.
      for (const [, label, value] of expr.matchAll(/\b(quantile|outcome|trigger|kpi)="([^"]+)"/g))
        expect(samples.some((l) => l.includes(`${label}="${value}"`))).toBe(true);
      expect(expr).toContain('namespace=~"$namespace"');
    }
    // The template variables read series that exist too.
    const variables = kpiDashboard().templating!.list!.filter((v) => v.type === 'query');
    expect(variables.map((v) => v.name)).toEqual(['namespace', 'app']);
    for (const v of variables) expect(JSON.stringify(v.query)).toContain('deploy_suite_releases');
  });

  it('lays its panels out on the 24-column grid without overlap, ids unique, targets from the roadmap', () => {
    const list = panels();
    expect(new Set(list.map((p) => p.id)).size).toBe(list.length);
    const cells = new Set<string>();
    for (const p of list) {
      const g = p.gridPos!;
      expect(g.x + g.w).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
    const steps = (title: string) =>
      list.find((p) => p.title === title)!.fieldConfig!.defaults.thresholds!.steps.map((s) => s.value);
    expect(steps('Deployment success rate')).toEqual([null, 0.95]);
    expect(steps('Deploy time, p95')).toEqual([null, 300]);
    expect(steps('Rollback time, median')).toEqual([null, 120]);
  });

  it('is the file users import (docs/grafana/release-kpis.json)', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../../docs/grafana/release-kpis.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(kpiDashboard())));
  });
});
