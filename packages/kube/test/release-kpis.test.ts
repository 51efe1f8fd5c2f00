import { describe, expect, it } from '@jest/globals';
import { elapsed, kpiChart, kpiRows, percentile, readHeld, releaseKpis, type HistoryEntry } from '../src/index.js';

const D = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
let minute = 0;
const at = () => new Date(Date.UTC(2026, 11, 1, 10, minute++)).toISOString();
const deploy = (revision: number, seconds: number, leadSeconds?: number): HistoryEntry => ({
  revision,
  digest: D(revision),
  colour: revision % 2 ? 'blue' : 'green',
  action: 'deploy',
  outcome: 'live',
  at: at(),
  seconds,
  ...(leadSeconds !== undefined ? { leadSeconds } : {}),
});
const failedDeploy = (revision: number, seconds: number): HistoryEntry => ({
  ...deploy(revision, seconds),
  action: 'deploy-failed',
  outcome: 'failed',
});
const rollback = (
  revision: number,
  fromRevision: number,
  seconds: number,
  trigger: 'analysis' | 'manual',
): HistoryEntry => ({
  revision,
  digest: D(revision),
  colour: 'blue',
  action: 'rollback',
  outcome: 'live',
  at: at(),
  seconds,
  fromRevision,
  trigger,
});
const analysis = (revision: number, outcome: 'passed' | 'failed', seconds: number): HistoryEntry => ({
  revision,
  digest: D(revision),
  colour: 'blue',
  action: 'analysis',
  outcome,
  at: at(),
  seconds,
});

describe('release KPIs from the history', () => {
  // What the tests did, oldest first: good, good, failed deploy, bad one rolled back by the analysis,
  // good one rolled back by hand, good. The cluster keeps it newest first.
  const story: HistoryEntry[] = [
    deploy(1, 40, 300),
    analysis(1, 'passed', 50),
    deploy(2, 60, 200),
    analysis(2, 'passed', 50),
    failedDeploy(3, 120),
    deploy(4, 50, 100),
    analysis(4, 'failed', 20),
    rollback(2, 4, 0.4, 'analysis'),
    deploy(5, 70, 400),
    rollback(4, 5, 0.6, 'manual'),
    deploy(6, 80),
    { revision: 5, digest: D(5), colour: 'green' as const, action: 'scale-down' as const, at: at() },
  ].reverse();

  it('counts success rate, deploy time, lead time, rollbacks, analyses and the change failure rate', () => {
    const k = releaseKpis(story);
    expect(k).toMatchObject({
      releases: 6,
      succeeded: 5,
      failed: 1,
      successRate: 5 / 6,
      deploySeconds: { median: 60, p95: 80 },
      leadSeconds: { median: 250 },
      rollbacks: { count: 2, automatic: 1, manual: 1, medianSeconds: 0.5 },
      analyses: { count: 3, failed: 1, medianSeconds: 50 },
      // r4 (analysis failed, rolled back) and r5 (rolled back by hand) of the 5 that went live.
      changeFailureRate: 2 / 5,
      met: { successRate: false, deployTime: true, rollbackTime: true },
    });
    expect(k.series.map((s) => `${s.revision}:${s.outcome}`)).toEqual([
      '1:live',
      '2:live',
      '3:failed',
      '4:live',
      '5:live',
      '6:live',
    ]);
  });

  it('covers only the last N releases, and what happened since the oldest of them', () => {
    const k = releaseKpis(story, 2);
    expect(k).toMatchObject({ releases: 2, succeeded: 2, failed: 0, successRate: 1 });
    // Only the manual rollback (from 5) happened since release 5.
    expect(k.rollbacks).toMatchObject({ count: 1, manual: 1, automatic: 0 });
    expect(k.changeFailureRate).toBe(0.5);
  });

  it('an empty history has nothing to judge; entries without durations count without them', () => {
    expect(releaseKpis([])).toMatchObject({
      releases: 0,
      successRate: null,
      deploySeconds: { median: null, p95: null },
      changeFailureRate: null,
      met: { successRate: null, deployTime: null, rollbackTime: null },
    });
    const old = releaseKpis([{ revision: 1, digest: D(1), colour: 'blue', action: 'deploy', at: at() }]);
    expect(old).toMatchObject({ releases: 1, successRate: 1, deploySeconds: { median: null } });
    expect(kpiChart(old)).toBeUndefined();
  });

  it('renders the table rows and a Mermaid chart with the 5-minute line', () => {
    const k = releaseKpis(story);
    const rows = kpiRows(k);
    expect(rows[0]).toEqual(['Deployment success rate', '83.3 % (5 of 6) ✗', '> 95 %']);
    expect(rows[1]).toEqual(['Deploy time, median / p95', '60 s / 80 s ✓', '< 5 min']);
    expect(rows[3]![1]).toBe('2 (1 / 1), 0.50 s ✓');
    const chart = kpiChart(k)!;
    expect(chart.split('\n')).toEqual([
      '```mermaid',
      'xychart-beta',
      '  title "Deploy time of the last 6 releases (s)"',
      '  x-axis ["r1", "r2", "r3 ✗", "r4", "r5", "r6"]',
      '  y-axis "seconds" 0 --> 330',
      '  bar [40.0, 60.0, 120.0, 50.0, 70.0, 80.0]',
      '  line [300, 300, 300, 300, 300, 300]',
      '```',
    ]);
  });

  it('percentiles by nearest rank', () => {
    expect(percentile([], 95)).toBeNull();
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
  });

  it('the clock: seconds since the start, and since the commit when it is known and not in the future', () => {
    const now = Date.parse('2026-12-01T10:10:00Z');
    expect(elapsed({ startedAt: now - 42_123, committedAt: '2026-12-01T10:00:00Z' }, now)).toEqual({
      seconds: 42.123,
      leadSeconds: 600,
    });
    expect(elapsed({ startedAt: now - 1000, committedAt: '2026-12-01T11:00:00Z' }, now)).toEqual({ seconds: 1 });
    expect(elapsed({ startedAt: now - 1000, committedAt: 'yesterday' }, now)).toEqual({ seconds: 1 });
    expect(elapsed(undefined, now)).toEqual({});
  });

  it('a hold keeps its durations for the promote; a bad one is left out, never a broken hold', () => {
    const hold = {
      colour: 'green',
      revision: 3,
      digest: D(3),
      template: 'a'.repeat(16),
      basedOn: 2,
      heldAt: '2026-12-01T10:00:00Z',
      expiresAt: '2026-12-02T10:00:00Z',
    };
    const preview = (value: object) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'p', annotations: { 'deploy-suite.dev/held': JSON.stringify(value) } },
    });
    expect(readHeld(preview({ ...hold, seconds: 40.5, leadSeconds: 90 }))).toMatchObject({
      seconds: 40.5,
      leadSeconds: 90,
    });
    const bad = readHeld(preview({ ...hold, seconds: 'soon', leadSeconds: -1 }))!;
    expect(bad).not.toHaveProperty('seconds');
    expect(bad).not.toHaveProperty('leadSeconds');
  });
});

describe('revision numbers', () => {
  it('are never reused: after a rollback the next deploy is above the highest the history holds', async () => {
    const { planDeploy, highestRevision } = await import('../src/index.js');
    const live = { liveColour: 'blue' as const, liveDigest: D(1), revision: 1 };
    expect(planDeploy(live, D(9), undefined, 2)).toMatchObject({ kind: 'deploy', revision: 3 });
    expect(planDeploy(live, D(9))).toMatchObject({ revision: 2 });
    expect(planDeploy(undefined, D(9), undefined, 4)).toMatchObject({ kind: 'deploy', target: 'blue', revision: 5 });
    expect(highestRevision([deploy(3, 1), rollback(1, 3, 1, 'manual'), failedDeploy(4, 1)])).toBe(3);
    expect(highestRevision([])).toBe(0);
  });
});
