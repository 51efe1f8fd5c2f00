import type { HistoryEntry } from './history.js';

/** The roadmap's targets: what the KPIs are held to. */
export const KPI_TARGETS = { successRate: 0.95, deploySeconds: 300, rollbackSeconds: 120 } as const;

export interface ReleaseKpis {
  /** Deploy attempts counted: the last N that went live, were held, or failed. */
  releases: number;
  succeeded: number;
  failed: number;
  /** succeeded ÷ releases; null without any release. */
  successRate: number | null;
  deploySeconds: { median: number | null; p95: number | null };
  /** From the commit to live (the lead time for changes), median. */
  leadSeconds: { median: number | null };
  rollbacks: { count: number; automatic: number; manual: number; medianSeconds: number | null };
  analyses: { count: number; failed: number; medianSeconds: number | null };
  /** Releases that went live and were then rolled back from, or failed their analysis ÷ releases that went live. */
  changeFailureRate: number | null;
  /** Whether each roadmap target is met (null: nothing to judge it by). */
  met: { successRate: boolean | null; deployTime: boolean | null; rollbackTime: boolean | null };
  /** The oldest release counted (ISO time). */
  since?: string;
  /** The releases counted, oldest first, for a chart: revision, outcome, seconds. */
  series: { revision: number; outcome: 'live' | 'held' | 'failed'; seconds?: number; at: string }[];
}

/** Nearest-rank percentile of numbers (p in 0..100); null for none. Pure. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const median = (values: number[]) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const numbers = (entries: HistoryEntry[], pick: (e: HistoryEntry) => number | undefined) =>
  entries.map(pick).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));

/**
 * The roadmap's KPIs over the last `lastReleases` deploy attempts of the history (newest first, as the
 * cluster keeps it): success rate, deploy time, lead time, rollbacks, analyses, change failure rate.
 * Entries the suite wrote before it recorded durations count, without their durations. Pure.
 */
export function releaseKpis(history: HistoryEntry[], lastReleases = 20): ReleaseKpis {
  const attempts = history.filter((e) => e.action === 'deploy' || e.action === 'deploy-failed').slice(0, lastReleases);
  const since = attempts.at(-1)?.at;
  const inWindow = (e: HistoryEntry) => since === undefined || Date.parse(e.at) >= Date.parse(since);
  const live = attempts.filter((e) => e.action === 'deploy');
  const failed = attempts.length - live.length;
  const rollbacks = history.filter((e) => e.action === 'rollback' && inWindow(e));
  const analyses = history.filter((e) => e.action === 'analysis' && inWindow(e));
  const rolledBackFrom = new Set(numbers(rollbacks, (e) => e.fromRevision));
  const failedAnalysis = new Set(analyses.filter((e) => e.outcome === 'failed').map((e) => e.revision));
  const changeFailures = live.filter((e) => rolledBackFrom.has(e.revision) || failedAnalysis.has(e.revision)).length;
  const deploySeconds = numbers(live, (e) => e.seconds);
  const rollbackSeconds = numbers(rollbacks, (e) => e.seconds);
  const successRate = attempts.length ? live.length / attempts.length : null;
  const deployMedian = median(deploySeconds);
  const rollbackMedian = median(rollbackSeconds);
  return {
    releases: attempts.length,
    succeeded: live.length,
    failed,
    successRate,
    deploySeconds: { median: deployMedian, p95: percentile(deploySeconds, 95) },
    leadSeconds: { median: median(numbers(live, (e) => e.leadSeconds)) },
    rollbacks: {
      count: rollbacks.length,
      automatic: rollbacks.filter((e) => e.trigger === 'analysis').length,
      manual: rollbacks.filter((e) => e.trigger !== 'analysis').length,
      medianSeconds: rollbackMedian,
    },
    analyses: {
      count: analyses.length,
      failed: analyses.filter((e) => e.outcome === 'failed').length,
      medianSeconds: median(numbers(analyses, (e) => e.seconds)),
    },
    changeFailureRate: live.length ? changeFailures / live.length : null,
    met: {
      successRate: successRate === null ? null : successRate > KPI_TARGETS.successRate,
      deployTime: deployMedian === null ? null : percentile(deploySeconds, 95)! < KPI_TARGETS.deploySeconds,
      rollbackTime: rollbackMedian === null ? null : Math.max(...rollbackSeconds) < KPI_TARGETS.rollbackSeconds,
    },
    ...(since ? { since } : {}),
    series: attempts
      .map((e) => ({
        revision: e.revision,
        outcome:
          e.action === 'deploy-failed'
            ? ('failed' as const)
            : e.outcome === 'held'
              ? ('held' as const)
              : ('live' as const),
        ...(e.seconds !== undefined ? { seconds: e.seconds } : {}),
        at: e.at,
      }))
      .reverse(),
  };
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1).replace(/\.0$/, '')} %`);
const secs = (v: number | null) => (v === null ? '–' : `${v < 10 ? v.toFixed(2) : v.toFixed(0)} s`);
const mark = (met: boolean | null) => (met === null ? '' : met ? ' ✓' : ' ✗');

/** The KPIs as rows of a summary table: KPI, value, target. Pure. */
export function kpiRows(k: ReleaseKpis): [string, string, string][] {
  return [
    [
      'Deployment success rate',
      `${pct(k.successRate)} (${k.succeeded} of ${k.releases})${mark(k.met.successRate)}`,
      '> 95 %',
    ],
    [
      'Deploy time, median / p95',
      `${secs(k.deploySeconds.median)} / ${secs(k.deploySeconds.p95)}${mark(k.met.deployTime)}`,
      '< 5 min',
    ],
    ['Commit to live, median', secs(k.leadSeconds.median), ''],
    [
      'Rollbacks (automatic / manual), median time',
      `${k.rollbacks.count} (${k.rollbacks.automatic} / ${k.rollbacks.manual}), ${secs(k.rollbacks.medianSeconds)}${mark(k.met.rollbackTime)}`,
      '< 2 min',
    ],
    [
      'Analyses (failed), median span',
      `${k.analyses.count} (${k.analyses.failed}), ${secs(k.analyses.medianSeconds)}`,
      '',
    ],
    ['Change failure rate', pct(k.changeFailureRate), ''],
  ];
}

/**
 * A Mermaid chart GitHub renders in the job summary: each counted release's deploy seconds (a failed one
 * at its time to failure), with the 5-minute target as a line. Undefined without any duration to draw.
 */
export function kpiChart(k: ReleaseKpis): string | undefined {
  const points = k.series.filter((s) => s.seconds !== undefined);
  if (points.length === 0) return undefined;
  const labels = points.map((s) => `"r${s.revision}${s.outcome === 'failed' ? ' ✗' : ''}"`);
  const top = Math.max(KPI_TARGETS.deploySeconds, ...points.map((s) => s.seconds!));
  return [
    '```mermaid',
    'xychart-beta',
    `  title "Deploy time of the last ${points.length} releases (s)"`,
    `  x-axis [${labels.join(', ')}]`,
    `  y-axis "seconds" 0 --> ${Math.ceil(top * 1.1)}`,
    `  bar [${points.map((s) => s.seconds!.toFixed(1)).join(', ')}]`,
    `  line [${points.map(() => KPI_TARGETS.deploySeconds).join(', ')}]`,
    '```',
  ].join('\n');
}

/**
 * The KPIs in Prometheus' text format, for a Pushgateway (grouped by app and namespace there): one gauge
 * family per KPI, durations as summaries' quantiles; a KPI without data is left out (no NaN). Pure.
 */
export function kpiMetrics(k: ReleaseKpis): string {
  const lines: string[] = [];
  const family = (name: string, help: string, samples: [string, number | null][]) => {
    const known = samples.filter((s): s is [string, number] => s[1] !== null && Number.isFinite(s[1]));
    if (known.length === 0) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of known) lines.push(`${name}${labels} ${value}`);
  };
  family('deploy_suite_releases', 'Deploy attempts the KPIs cover, by outcome.', [
    ['{outcome="succeeded"}', k.succeeded],
    ['{outcome="failed"}', k.failed],
  ]);
  family('deploy_suite_release_success_ratio', 'Deploy attempts that went live (or were held) of those counted.', [
    ['', k.successRate],
  ]);
  family('deploy_suite_deploy_duration_seconds', 'Deploy time, run start to live.', [
    ['{quantile="0.5"}', k.deploySeconds.median],
    ['{quantile="0.95"}', k.deploySeconds.p95],
  ]);
  family('deploy_suite_lead_time_seconds', 'Commit to live.', [['{quantile="0.5"}', k.leadSeconds.median]]);
  family('deploy_suite_rollbacks', 'Rollbacks since the oldest release counted, by trigger.', [
    ['{trigger="analysis"}', k.rollbacks.automatic],
    ['{trigger="manual"}', k.rollbacks.manual],
  ]);
  family('deploy_suite_rollback_duration_seconds', 'Rollback time, run start to the switch back.', [
    ['{quantile="0.5"}', k.rollbacks.medianSeconds],
  ]);
  family(
    'deploy_suite_change_failure_ratio',
    'Releases that went live and were rolled back or failed their analysis.',
    [['', k.changeFailureRate]],
  );
  const met = (v: boolean | null) => (v === null ? null : v ? 1 : 0);
  family('deploy_suite_kpi_target_met', "1 when the roadmap's target is met.", [
    ['{kpi="success_rate"}', met(k.met.successRate)],
    ['{kpi="deploy_time"}', met(k.met.deployTime)],
    ['{kpi="rollback_time"}', met(k.met.rollbackTime)],
  ]);
  return `${lines.join('\n')}\n`;
}
