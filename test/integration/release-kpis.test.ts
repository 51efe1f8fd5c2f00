// The roadmap's KPIs from the cluster's history: a sequence of releases played through the bundled
// actions against the real control plane (a good one, a bad one the analysis rolls back, one whose
// rollout fails, one rolled back by hand), then the figures verify-rollback reports checked against what
// the test did. The analysis reads a local web stand-in (test/support/metric-providers.ts); the KPIs go
// to the platform's real Pushgateway and come back from the real Prometheus that scrapes it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryEntry, ReleaseKpis } from '@deploy-suite/kube';
import { kpiDashboard } from '../../packages/kube/src/kpi-dashboard.js';
import { loadEvent, runAction } from '../support/action-runner.js';
import { startProviderStandIn, type ProviderStandIn } from '../support/metric-providers.js';
import { useNamespace } from '../support/namespace.js';
import { waitForSeries } from '../support/metrics.js';

const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const namespace = `kpis-${randomBytes(3).toString('hex')}`;
const app = 'shop';
const digestOf = (n: number) => `sha256:${n.toString(16).padStart(64, 'f')}`;
const webKey = `web_${randomBytes(8).toString('hex')}`;
let standIn: ProviderStandIn;

beforeAll(async () => {
  standIn = await startProviderStandIn({ datadogApi: '-', datadogApplication: '-', newRelic: '-', web: webKey });
});
afterAll(() => standIn.close());

const deploy = async (n: number, extra: Record<string, string> = {}) =>
  runAction(
    'bluegreen-deploy',
    { kubeconfig, namespace, app, replicas: '1', image: `127.0.0.1:5000/shop/api@${digestOf(n)}`, ...extra },
    await loadEvent('push-default-branch'),
  );
const verify = async (errorRate: number, extra: Record<string, string> = {}) => {
  standIn.answer = () => ({ value: errorRate });
  return runAction(
    'verify-rollback',
    {
      kubeconfig,
      namespace,
      app,
      'metrics-provider': 'web',
      'web-headers': `Authorization: Bearer ${webKey}`,
      queries: `errors: ${standIn.url}/web/errors?colour={{colour}} $.data.errorRate <= 0.01`,
      'metrics-checks': '1',
      ...extra,
    },
    await loadEvent('workflow-dispatch'),
  );
};

describe('release KPIs over a sequence of releases', () => {
  useNamespace(namespace);

  it('counts what the releases did: success rate, rollbacks by trigger, change failure rate, durations', async () => {
    // r1 good, and its analysis passes.
    expect((await deploy(1)).exitCode).toBe(0);
    expect((await verify(0.001)).outputs.verdict).toBe('passed');
    // r2 bad: the analysis fails and rolls back to r1.
    expect((await deploy(2)).exitCode).toBe(0);
    const bad = await verify(0.3);
    expect(bad.outputs).toMatchObject({ verdict: 'failed', 'rolled-back': 'true' });
    // Revisions number what went live, a rollback included (as Helm's do): r1 is 1, r2 is 2, its rollback 3.
    // r3 never becomes ready: the deploy fails, live untouched.
    const dir = mkdtempSync(join(tmpdir(), 'kpis-'));
    const template = join(dir, 'deployment.yaml');
    writeFileSync(
      template,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop}\nspec: {template: {metadata: {labels: {deploy-suite.test/hold-not-ready: "true"}}, spec: {containers: [{name: api, image: x}]}}}\n',
    );
    const failed = await deploy(3, { 'deployment-template': template, 'progress-deadline': '3s' });
    expect(failed.exitCode).toBe(1);
    // r4 good, then rolled back by hand.
    expect((await deploy(4)).exitCode).toBe(0);
    const manual = await runAction(
      'verify-rollback',
      { kubeconfig, namespace, app, 'rollback-to': 'previous' },
      await loadEvent('workflow-dispatch'),
    );
    expect(manual.outputs['rolled-back']).toBe('true');

    const report = await verify(0.001, { 'pushgateway-url': process.env.DEPLOY_SUITE_PUSHGATEWAY! });
    expect(report.exitCode).toBe(0);
    expect(report.log).toContain(`pushed the release KPIs of ${app} to the Pushgateway`);
    const kpis = JSON.parse(report.outputs.kpis!) as ReleaseKpis;
    const history = JSON.parse(report.outputs.history!) as HistoryEntry[];
    expect(kpis).toMatchObject({
      releases: 4,
      succeeded: 3,
      failed: 1,
      successRate: 0.75,
      rollbacks: { count: 2, automatic: 1, manual: 1 },
      // r2 (its analysis failed, rolled back) and r4 (rolled back by hand) of the 3 that went live.
      changeFailureRate: 2 / 3,
      met: { successRate: false, deployTime: true, rollbackTime: true },
    });
    expect(kpis.analyses.failed).toBe(1);
    expect(kpis.series.map((s) => `${s.outcome}:${s.revision}`)).toEqual(['live:1', 'live:2', 'failed:4', 'live:4']);
    // Durations from the runs themselves: each deploy took seconds, each rollback well under one.
    expect(kpis.deploySeconds.median).toBeGreaterThan(0);
    // The push event's head commit is from 2026-11-20: the lead time runs from it.
    expect(kpis.leadSeconds.median).toBeGreaterThan(86_400);
    expect(kpis.deploySeconds.p95).toBeLessThan(120);
    expect(kpis.rollbacks.medianSeconds).toBeGreaterThan(0);
    expect(kpis.rollbacks.medianSeconds).toBeLessThan(30);
    // The history as dashboards read it: every kind of entry the sequence wrote.
    expect(new Set(history.map((h) => h.action))).toEqual(new Set(['deploy', 'analysis', 'rollback', 'deploy-failed']));
    const failedEntry = history.find((h) => h.action === 'deploy-failed')!;
    expect(failedEntry).toMatchObject({ outcome: 'failed', digest: digestOf(3), revision: 4 });
    expect(history.filter((h) => h.action === 'rollback').map((h) => `${h.trigger}:${h.fromRevision}`)).toEqual([
      'manual:4',
      'analysis:2',
    ]);
    expect(report.summary).toContain('Release KPIs: the last 4 releases');
    expect(report.summary).toContain('75 % (3 of 4) ✗');
    expect(report.summary).toContain('xychart-beta');
    // What dashboards read: the pushed figures, scraped by Prometheus with the app's own labels.
    const group = `job="deploy_suite",namespace="${namespace}",app="${app}"`;
    const [ratio] = await waitForSeries(`deploy_suite_release_success_ratio{${group}}`);
    expect(Number(ratio!.value[1])).toBe(0.75);
    const rollbacks = await waitForSeries(`deploy_suite_rollbacks{${group}}`);
    expect(Object.fromEntries(rollbacks.map((r) => [r.metric.trigger, Number(r.value[1])]))).toEqual({
      analysis: 1,
      manual: 1,
    });
    const [cfr] = await waitForSeries(`deploy_suite_change_failure_ratio{${group}}`);
    expect(Number(cfr!.value[1])).toBeCloseTo(2 / 3, 6);
    const [met] = await waitForSeries(`deploy_suite_kpi_target_met{${group},kpi="success_rate"}`);
    expect(met!.value[1]).toBe('0');
    // Every panel of the shipped Grafana dashboard finds its figures for this app.
    for (const panel of kpiDashboard().panels ?? [])
      for (const target of (panel as { targets?: { expr?: string }[] }).targets ?? []) {
        const expr = target.expr!.replaceAll('$namespace', namespace).replaceAll('$app', app);
        expect((await waitForSeries(expr, 5_000)).length).toBeGreaterThan(0);
      }
    // Revision 4 is the release that went live, never the failed attempt under the same number.
    const toFour = await runAction(
      'verify-rollback',
      { kubeconfig, namespace, app, 'rollback-to': '4', 'auto-rollback': 'false' },
      await loadEvent('workflow-dispatch'),
    );
    expect(toFour.outputs).toMatchObject({ 'rolled-back': 'true', 'live-digest': digestOf(4), revision: '6' });
    // A Pushgateway that does not answer costs a warning, never the verdict.
    const unreachable = await verify(0.001, { 'pushgateway-url': 'http://127.0.0.1:9' });
    expect(unreachable.exitCode).toBe(0);
    expect(unreachable.outputs.verdict).toBe('passed');
    expect(unreachable.log).toMatch(
      /::warning::the release KPIs did not reach the Pushgateway \(.+\); the verdict is not affected. Check pushgateway-url/,
    );
  });
});
