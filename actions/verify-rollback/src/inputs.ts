import { InputReader, maskSecret, readNotifier, splitList, type Notifier } from '@deploy-suite/action-kit';
import {
  builtInChecksFor,
  noBuiltInChecks,
  metricSource,
  parseMetricCheck,
  readHttpCheck,
  windowSeconds,
  type AnalysisPlan,
  type MetricCheck,
  type MetricsProvider,
  type MetricsSelector,
} from '@deploy-suite/checks';
import { HISTORY_LIMIT, readAppTarget, type AppTarget, type RollbackTarget } from '@deploy-suite/kube';
import { readImagePolicy, type ImagePolicy } from '@deploy-suite/supply-chain/inputs';
import { queryProblem, readMetricsProvider, readMetricsSelector, readProviderKind } from './metrics-inputs.js';

export interface VerifyRollbackInputs extends AppTarget {
  /** Manual rollback (workflow_dispatch); undefined: analyse the live release. */
  rollbackTo?: RollbackTarget;
  /** The digest the analysis is about: a rollback happens only while it is still live. */
  expectDigest?: string;
  http?: AnalysisPlan['http'];
  /** Who answers the metric checks; undefined when there is none. */
  metricsProvider?: MetricsProvider;
  /** Metric checks other than the built-in ones (these need the live colour, known only at run time). */
  customChecks: MetricCheck[];
  /** What the built-in checks add to app and colour (`metrics-selector`, placeholders filled). */
  metricsSelector: MetricsSelector;
  errorRateMax?: number;
  p95MaxSeconds?: number;
  metricsWindow: string;
  metricsSchedule: { count: number; intervalMs: number; failureLimit: number };
  queryTimeoutMs: number;
  inconclusive: 'fail' | 'pass';
  autoRollback: boolean;
  lockTimeoutMs: number;
  readyTimeoutMs: number;
  /** How long each post-rollback hook may run. */
  hookTimeoutSeconds: number;
  /** GitHub environment whose deployments follow a rollback. */
  environment: string;
  githubToken: string;
  /** Who must have signed what a rollback puts live (manual or automatic). */
  imagePolicy: ImagePolicy;
  /** Who hears of a rollback or a failed analysis (notify-webhook); a silent one without. */
  notifier: Notifier;
  /** How many of the last releases the KPIs cover. */
  kpiReleases: number;
  /** A Prometheus Pushgateway the KPIs are pushed to (grouped by namespace and app). */
  pushgatewayUrl?: string;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function readNumber(reader: InputReader, name: string, fix: string): number | undefined {
  const text = reader.string(name);
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    reader.problem(name, `'${text}' is not a number`, fix);
    return undefined;
  }
  return value;
}

/** Reads and checks every input before anything touches the cluster; the kubeconfig is masked first. */
export function readVerifyRollbackInputs(
  reader: InputReader,
  workspace: string,
  env: NodeJS.ProcessEnv = process.env,
): VerifyRollbackInputs {
  const target = readAppTarget(reader, env);

  const rollbackText = reader.string('rollback-to');
  let rollbackTo: RollbackTarget | undefined;
  if (rollbackText) {
    if (rollbackText === 'previous') rollbackTo = { kind: 'previous' };
    else if (/^[0-9]+$/.test(rollbackText) && Number(rollbackText) > 0)
      rollbackTo = { kind: 'revision', revision: Number(rollbackText) };
    else if (DIGEST.test(rollbackText.slice(rollbackText.indexOf('@') + 1)))
      rollbackTo = { kind: 'digest', digest: rollbackText.slice(rollbackText.indexOf('@') + 1) };
    else
      reader.problem(
        'rollback-to',
        `'${rollbackText}' is not previous, a revision number or a digest`,
        'use previous, a revision from the deploy history (e.g. 12), or sha256:<64 hex digits>',
      );
  }
  const expectText = reader.string('expect-digest');
  const expectDigest = expectText ? expectText.slice(expectText.indexOf('@') + 1) : undefined;
  if (expectDigest && !DIGEST.test(expectDigest))
    reader.problem(
      'expect-digest',
      `'${expectText}' is not a digest`,
      "pass bluegreen-deploy's digest output (sha256:…)",
    );

  const http = readHttpCheck(reader, 'http', { count: 5, intervalSeconds: 5 });
  const providerKind = readProviderKind(reader);
  const errorRateMax = readNumber(
    reader,
    'error-rate-max',
    'give the largest acceptable share of 5xx responses, e.g. 0.01 for 1 %',
  );
  if (errorRateMax !== undefined && errorRateMax > 1)
    reader.problem(
      'error-rate-max',
      `${errorRateMax} is more than 1`,
      'give a share between 0 and 1, e.g. 0.01 for 1 %',
    );
  const p95Text = reader.string('p95-max');
  let p95MaxSeconds: number | undefined;
  if (p95Text) {
    const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s)?$/.exec(p95Text);
    if (!m) reader.problem('p95-max', `'${p95Text}' is not a latency`, 'give it as 300ms or 0.3s');
    else p95MaxSeconds = Number(m[1]) / (m[2] === 'ms' ? 1000 : 1);
  }
  // {{app}} and {{namespace}} are known now; {{colour}} only once the live colour is read.
  const fill = (text: string) => text.replaceAll('{{app}}', target.app).replaceAll('{{namespace}}', target.namespace);
  const metricsSelector = readMetricsSelector(reader, providerKind, fill);
  const customChecks: MetricCheck[] = [];
  for (const line of splitList(reader.raw('queries'), 'newline').map(fill)) {
    const check = parseMetricCheck(line);
    // {{colour}} is filled at run time: checked here with a colour in its place.
    const problem = check && queryProblem(providerKind, check.query.replaceAll('{{colour}}', 'blue'));
    if (check && problem)
      reader.problem(
        'queries',
        `'${line}'${problem.problem.startsWith('is ') ? ' ' : ': '}${problem.problem}`,
        problem.fix,
      );
    else if (check) customChecks.push(check);
    else
      reader.problem(
        'queries',
        `'${line}' is not 'name: <query> <op> <number>'`,
        providerKind === 'web'
          ? 'write one check per line, e.g. errors: https://stats.shop.example/api/errors $.rate < 0.01 (op is <, <=, > or >=)'
          : 'write one check per line, e.g. queue: max(queue_depth{app="shop"}) < 100 (op is <, <=, > or >=)',
      );
  }
  const names = customChecks.map((c) => c.name);
  const duplicate = names.find(
    (n, i) => names.indexOf(n) !== i || n === 'error-rate' || n === 'p95-latency' || n === 'http',
  );
  if (duplicate)
    reader.problem(
      'queries',
      `the name '${duplicate}' is used twice (or is a built-in check's)`,
      'give each check its own name',
    );
  const builtIns = errorRateMax !== undefined || p95MaxSeconds !== undefined;
  const noBuiltIns = noBuiltInChecks(providerKind);
  if (builtIns && noBuiltIns)
    reader.problem(
      errorRateMax !== undefined ? 'error-rate-max' : 'p95-max',
      `the ${providerKind} provider has no built-in checks (${noBuiltIns})`,
      providerKind === 'web'
        ? 'write the check in queries: name: <URL> <JSONPath> <op> <number>'
        : 'write the check in queries on a series of the colour: name: <metric math or Metrics Insights query> <op> <number>, e.g. errors: SELECT SUM(Errors) FROM SCHEMA("MyApp", Colour) WHERE Colour = \'{{colour}}\' < 5',
    );
  const needsMetrics = builtIns || customChecks.length > 0;
  const metricsProvider = readMetricsProvider(reader, providerKind, needsMetrics, env);
  const window = reader.string('metrics-window', { default: '1m' });
  if (!/^[0-9]+(ms|s|m|h)$/.test(window))
    reader.problem('metrics-window', `'${window}' is not a window`, 'use a duration such as 30s, 1m or 5m');
  const metricsSchedule = {
    count: reader.positiveInt('metrics-checks', 5),
    intervalMs: reader.durationMs('metrics-interval', 10_000),
    failureLimit: Number(reader.string('metrics-failure-limit', { default: '0' })),
  };
  if (!Number.isInteger(metricsSchedule.failureLimit) || metricsSchedule.failureLimit < 0)
    reader.problem(
      'metrics-failure-limit',
      `'${reader.raw('metrics-failure-limit')}' is not a whole number`,
      'use 0 or more',
    );
  else if (metricsSchedule.failureLimit >= metricsSchedule.count)
    reader.problem(
      'metrics-failure-limit',
      `${metricsSchedule.failureLimit} allows every one of the ${metricsSchedule.count} checks to fail`,
      'use less than metrics-checks',
    );
  const inconclusive = reader.oneOf('inconclusive', ['fail', 'pass'] as const, 'fail');
  const autoRollback = reader.boolean('auto-rollback', true);
  if (!rollbackTo && !http && !needsMetrics)
    reader.problem(
      'http-url',
      'no check is set, and rollback-to is empty: there is nothing to do',
      'set http-url and/or prometheus-url with error-rate-max, p95-max or queries; or rollback-to for a manual rollback',
    );
  const lockTimeoutMs = reader.durationMs('lock-timeout', 300_000);
  const readyTimeoutMs = reader.durationMs('ready-timeout', 300_000);
  const hookTimeoutSeconds = reader.durationSeconds('hook-timeout', 300);
  const queryTimeoutMs = reader.durationMs('query-timeout', 5_000);
  const githubToken = reader.raw('github-token');
  maskSecret(githubToken);
  const environment = reader.string('environment');
  const imagePolicy = readImagePolicy(reader, workspace);
  const notifier = readNotifier(reader);
  const kpiReleases = reader.positiveInt('kpi-releases', 20);
  if (kpiReleases > HISTORY_LIMIT)
    reader.problem('kpi-releases', `${kpiReleases} is more than the history keeps`, `use at most ${HISTORY_LIMIT}`);
  const pushgatewayUrl = reader.string('pushgateway-url');
  if (pushgatewayUrl && !/^https?:\/\/\S+$/.test(pushgatewayUrl))
    reader.problem(
      'pushgateway-url',
      `'${pushgatewayUrl}' is not an http(s) URL`,
      'give the Pushgateway base URL, e.g. http://pushgateway.monitoring:9091',
    );
  reader.done();
  return {
    ...(pushgatewayUrl ? { pushgatewayUrl } : {}),
    ...target,
    ...(rollbackTo ? { rollbackTo } : {}),
    ...(expectDigest ? { expectDigest } : {}),
    ...(http ? { http } : {}),
    ...(metricsProvider ? { metricsProvider } : {}),
    customChecks,
    metricsSelector,
    ...(errorRateMax !== undefined ? { errorRateMax } : {}),
    ...(p95MaxSeconds !== undefined ? { p95MaxSeconds } : {}),
    metricsWindow: window,
    metricsSchedule,
    queryTimeoutMs,
    inconclusive,
    autoRollback,
    lockTimeoutMs,
    readyTimeoutMs,
    hookTimeoutSeconds,
    environment,
    githubToken,
    imagePolicy,
    notifier,
    kpiReleases,
  };
}

/** The analysis for the colour that is live now: built-in checks select it, custom ones are as written. */
export function analysisPlan(inputs: VerifyRollbackInputs, liveColour: string): AnalysisPlan {
  const metricChecks = [
    ...builtInChecksFor(inputs.metricsSelector, {
      app: inputs.app,
      colour: liveColour,
      window: inputs.metricsWindow,
      ...(inputs.errorRateMax !== undefined ? { errorRateMax: inputs.errorRateMax } : {}),
      ...(inputs.p95MaxSeconds !== undefined ? { p95MaxSeconds: inputs.p95MaxSeconds } : {}),
    }),
    ...inputs.customChecks.map((c) => ({ ...c, query: c.query.replaceAll('{{colour}}', liveColour) })),
  ];
  return {
    ...(inputs.http ? { http: inputs.http } : {}),
    ...(inputs.metricsProvider && metricChecks.length
      ? {
          metrics: {
            source: metricSource(inputs.metricsProvider, windowSeconds(inputs.metricsWindow)),
            checks: metricChecks,
            schedule: inputs.metricsSchedule,
            timeoutMs: inputs.queryTimeoutMs,
          },
        }
      : {}),
  };
}
