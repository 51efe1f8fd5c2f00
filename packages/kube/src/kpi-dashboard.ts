/**
 * The Grafana dashboard of the release KPIs verify-rollback pushes to a Pushgateway (kpiMetrics): typed
 * with Grafana's own dashboard schema (@grafana/schema), so a field Grafana does not know, or a value
 * outside its enums, fails the typecheck. scripts/grafana-dashboard.mjs writes it to
 * docs/grafana/release-kpis.json, the file users import. Pure.
 */
import {
  BigValueColorMode,
  BigValueGraphMode,
  BigValueJustifyMode,
  BigValueTextMode,
  DashboardCursorSync,
  LegendDisplayMode,
  PercentChangeColorMode,
  SortOrder,
  ThresholdsMode,
  TooltipDisplayMode,
  VariableRefresh,
  VariableSort,
  VizOrientation,
  type Dashboard,
  type Panel,
  type VariableModel,
} from '@grafana/schema';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import { KPI_TARGETS } from './release-kpis.js';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const SELECT = 'namespace=~"$namespace", app=~"$app"';

type Thresholds = { value: number | null; color: string }[];

const below = (target: number): Thresholds => [
  { value: null, color: 'red' },
  { value: target, color: 'green' },
];
const above = (target: number): Thresholds => [
  { value: null, color: 'green' },
  { value: target, color: 'red' },
];

let nextId = 1;

function stat(
  title: string,
  description: string,
  expr: string,
  unit: string,
  thresholds: Thresholds,
  gridPos: { x: number; y: number; w: number; h: number },
): Panel {
  return {
    id: nextId++,
    type: 'stat',
    title,
    description,
    datasource: DATASOURCE,
    gridPos,
    targets: [{ refId: 'A', datasource: DATASOURCE, expr, legendFormat: '{{namespace}}/{{app}}', instant: true }],
    fieldConfig: {
      defaults: { unit, decimals: 2, thresholds: { mode: ThresholdsMode.Absolute, steps: thresholds } },
      overrides: [],
    },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      orientation: VizOrientation.Auto,
      colorMode: BigValueColorMode.Background,
      graphMode: BigValueGraphMode.None,
      justifyMode: BigValueJustifyMode.Auto,
      textMode: BigValueTextMode.Auto,
      percentChangeColorMode: PercentChangeColorMode.Standard,
      showPercentChange: false,
      wideLayout: true,
    } satisfies StatOptions,
  };
}

function timeseries(
  title: string,
  description: string,
  expr: string,
  legend: string,
  unit: string,
  gridPos: { x: number; y: number; w: number; h: number },
): Panel {
  return {
    id: nextId++,
    type: 'timeseries',
    title,
    description,
    datasource: DATASOURCE,
    gridPos,
    targets: [{ refId: 'A', datasource: DATASOURCE, expr, legendFormat: legend }],
    fieldConfig: { defaults: { unit, custom: { lineWidth: 2, fillOpacity: 10 } }, overrides: [] },
    options: {
      legend: { displayMode: LegendDisplayMode.Table, placement: 'bottom', calcs: ['lastNotNull'], showLegend: true },
      tooltip: { mode: TooltipDisplayMode.Multi, sort: SortOrder.None },
    } satisfies TimeSeriesOptions,
  };
}

/** The dashboard: the roadmap's KPIs per app (namespace and app are variables), each against its target. */
export function kpiDashboard(): Dashboard {
  nextId = 1;
  const panels: Panel[] = [
    stat(
      'Deployment success rate',
      `Deploy attempts that went live (or were held) of the last N; the roadmap's target is above ${KPI_TARGETS.successRate * 100} %.`,
      `deploy_suite_release_success_ratio{${SELECT}}`,
      'percentunit',
      below(KPI_TARGETS.successRate),
      { x: 0, y: 0, w: 6, h: 5 },
    ),
    stat(
      'Deploy time, p95',
      `Run start to live; the target is under ${KPI_TARGETS.deploySeconds / 60} minutes.`,
      `deploy_suite_deploy_duration_seconds{${SELECT}, quantile="0.95"}`,
      's',
      above(KPI_TARGETS.deploySeconds),
      { x: 6, y: 0, w: 6, h: 5 },
    ),
    stat(
      'Rollback time, median',
      `Run start to the live selector switched back; the target is under ${KPI_TARGETS.rollbackSeconds / 60} minutes.`,
      `deploy_suite_rollback_duration_seconds{${SELECT}, quantile="0.5"}`,
      's',
      above(KPI_TARGETS.rollbackSeconds),
      { x: 12, y: 0, w: 6, h: 5 },
    ),
    stat(
      'Change failure rate',
      'Releases that went live and were rolled back, or failed their analysis, of those that went live.',
      `deploy_suite_change_failure_ratio{${SELECT}}`,
      'percentunit',
      above(0.15),
      { x: 18, y: 0, w: 6, h: 5 },
    ),
    stat(
      'Lead time, median',
      'From the commit to live.',
      `deploy_suite_lead_time_seconds{${SELECT}, quantile="0.5"}`,
      's',
      above(86_400),
      { x: 0, y: 5, w: 6, h: 5 },
    ),
    stat(
      'Rollbacks',
      'Rollbacks since the oldest release counted: automatic (the analysis) and manual.',
      `sum by (trigger) (deploy_suite_rollbacks{${SELECT}})`,
      'none',
      [{ value: null, color: 'blue' }],
      { x: 6, y: 5, w: 6, h: 5 },
    ),
    stat(
      'Targets met',
      "1 where the roadmap's target is met: success rate, deploy time, rollback time.",
      `min by (kpi) (deploy_suite_kpi_target_met{${SELECT}})`,
      'none',
      below(1),
      { x: 12, y: 5, w: 12, h: 5 },
    ),
    timeseries(
      'Success rate over time',
      'As each verify-rollback run pushed it.',
      `deploy_suite_release_success_ratio{${SELECT}}`,
      '{{namespace}}/{{app}}',
      'percentunit',
      { x: 0, y: 10, w: 12, h: 8 },
    ),
    timeseries(
      'Deploy and rollback time over time',
      'p95 deploy time and median rollback time per app.',
      `label_replace(deploy_suite_deploy_duration_seconds{${SELECT}, quantile="0.95"}, "kpi", "deploy p95", "", "") or label_replace(deploy_suite_rollback_duration_seconds{${SELECT}, quantile="0.5"}, "kpi", "rollback median", "", "")`,
      '{{app}} {{kpi}}',
      's',
      { x: 12, y: 10, w: 12, h: 8 },
    ),
  ];
  const variable = (name: string, label: string, query: string): VariableModel => ({
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: `${name}-query` },
    refresh: VariableRefresh.onTimeRangeChanged,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { text: ['All'], value: ['$__all'] },
    options: [],
    sort: VariableSort.alphabeticalAsc,
  });
  return {
    uid: 'deploy-suite-release-kpis',
    title: 'Release KPIs (deploy suite)',
    description:
      "The roadmap's KPIs per app, from the cluster's history as verify-rollback pushes them (pushgateway-url): success rate, deploy and rollback time, change failure rate.",
    tags: ['deploy-suite', 'dora'],
    editable: true,
    schemaVersion: 42,
    version: 1,
    time: { from: 'now-30d', to: 'now' },
    refresh: '5m',
    timezone: 'browser',
    graphTooltip: DashboardCursorSync.Crosshair,
    links: [],
    annotations: { list: [] },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          options: [],
        },
        variable('namespace', 'Namespace', 'label_values(deploy_suite_releases, namespace)'),
        variable('app', 'App', 'label_values(deploy_suite_releases{namespace=~"$namespace"}, app)'),
      ],
    },
    panels,
  };
}
