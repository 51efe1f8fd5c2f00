import { InputReader, maskSecret, splitList } from '@deploy-suite/action-kit';
import {
  builtInMetricChecks,
  matcherLabels,
  parseLabelMatchers,
  parseMetricCheck,
  promqlProblem,
  readHttpCheck,
  type AnalysisPlan,
  type MetricCheck,
} from '@deploy-suite/checks';
import { readAppTarget, type AppTarget, type RollbackTarget } from '@deploy-suite/kube';
import { readImagePolicy, type ImagePolicy } from '@deploy-suite/supply-chain/inputs';

export interface VerifyRollbackInputs extends AppTarget {
  /** Manual rollback (workflow_dispatch); undefined: analyse the live release. */
  rollbackTo?: RollbackTarget;
  /** The digest the analysis is about: a rollback happens only while it is still live. */
  expectDigest?: string;
  http?: AnalysisPlan['http'];
  prometheusUrl?: string;
  /** Headers of every Prometheus query: the bearer token and extra headers of a managed Prometheus. */
  prometheusHeaders: Record<string, string>;
  /** Metric checks other than the built-in ones (these need the live colour, known only at run time). */
  customChecks: MetricCheck[];
  /** Label matchers the built-in checks add to app and colour (`metrics-selector`, placeholders filled). */
  metricsMatchers: string[];
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
  const prometheusUrl = reader.string('prometheus-url');
  if (prometheusUrl && !/^https?:\/\/\S+$/.test(prometheusUrl))
    reader.problem(
      'prometheus-url',
      `'${prometheusUrl}' is not an http(s) URL`,
      'give the Prometheus base URL, e.g. http://prometheus.monitoring:9090',
    );
  const prometheusHeaders = readPrometheusHeaders(reader);
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
  const metricsMatchers = readMetricsSelector(reader, fill);
  const customChecks: MetricCheck[] = [];
  for (const line of splitList(reader.raw('queries'), 'newline').map(fill)) {
    const check = parseMetricCheck(line);
    const syntax = check && promqlProblem(check.query);
    if (check && syntax)
      reader.problem(
        'queries',
        `'${line}' is not valid PromQL: ${syntax}`,
        'fix the query (try it in the Prometheus UI first)',
      );
    else if (check) customChecks.push(check);
    else
      reader.problem(
        'queries',
        `'${line}' is not 'name: <PromQL> <op> <number>'`,
        'write one check per line, e.g. queue: max(queue_depth{app="shop"}) < 100 (op is <, <=, > or >=)',
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
  const needsPrometheus = errorRateMax !== undefined || p95MaxSeconds !== undefined || customChecks.length > 0;
  if (needsPrometheus && !prometheusUrl)
    reader.problem('prometheus-url', 'is empty while metric checks are set', 'give the Prometheus base URL');
  const window = reader.string('metrics-window', { default: '1m' });
  if (!/^[0-9]+(ms|s|m|h)$/.test(window))
    reader.problem('metrics-window', `'${window}' is not a PromQL range`, 'use a range such as 30s, 1m or 5m');
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
  if (!rollbackTo && !http && !needsPrometheus)
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
  reader.done();
  return {
    ...target,
    ...(rollbackTo ? { rollbackTo } : {}),
    ...(expectDigest ? { expectDigest } : {}),
    ...(http ? { http } : {}),
    ...(prometheusUrl ? { prometheusUrl } : {}),
    prometheusHeaders,
    customChecks,
    metricsMatchers,
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
  };
}

/** The analysis for the colour that is live now: built-in checks select it, custom ones are as written. */
export function analysisPlan(inputs: VerifyRollbackInputs, liveColour: string): AnalysisPlan {
  const metricChecks = [
    ...builtInMetricChecks({
      app: inputs.app,
      colour: liveColour,
      window: inputs.metricsWindow,
      matchers: inputs.metricsMatchers,
      ...(inputs.errorRateMax !== undefined ? { errorRateMax: inputs.errorRateMax } : {}),
      ...(inputs.p95MaxSeconds !== undefined ? { p95MaxSeconds: inputs.p95MaxSeconds } : {}),
    }),
    ...inputs.customChecks.map((c) => ({ ...c, query: c.query.replaceAll('{{colour}}', liveColour) })),
  ];
  return {
    ...(inputs.http ? { http: inputs.http } : {}),
    ...(inputs.prometheusUrl && metricChecks.length
      ? {
          metrics: {
            prometheusUrl: inputs.prometheusUrl,
            headers: inputs.prometheusHeaders,
            checks: metricChecks,
            schedule: inputs.metricsSchedule,
            timeoutMs: inputs.queryTimeoutMs,
          },
        }
      : {}),
  };
}

/**
 * `metrics-selector`: label matchers the built-in queries add to app and colour, by default the
 * namespace (as Flagger's built-in metrics select it): one Prometheus scraping staging and production
 * holds the same app twice. `none` for a Prometheus whose series carry no namespace label.
 */
function readMetricsSelector(reader: InputReader, fill: (text: string) => string): string[] {
  const text = fill(reader.string('metrics-selector', { default: 'namespace="{{namespace}}"' }));
  if (text === 'none') return [];
  const parsed = parseLabelMatchers(text);
  if ('problem' in parsed) {
    reader.problem(
      'metrics-selector',
      parsed.problem,
      'write PromQL label matchers separated by commas, e.g. namespace="{{namespace}}", cluster="eu-1" (none: app and colour only)',
    );
    return [];
  }
  const taken = matcherLabels(parsed.matchers).find((label) => label === 'app' || label === 'colour');
  if (taken)
    reader.problem(
      'metrics-selector',
      `matches on '${taken}', which the built-in queries already select (the app input and the live colour)`,
      'leave app and colour out of it; give only the labels that narrow them further, e.g. namespace or cluster',
    );
  return taken ? [] : parsed.matchers;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const SECRET_HEADER = /authorization|token|key|secret|password|cookie/i;

/**
 * `prometheus-token` (a bearer token, masked) and `prometheus-headers` (`Name: value` lines: a tenant
 * header such as X-Scope-OrgID, an API key) for managed Prometheus services. Values of headers whose
 * names say they are credentials are masked too.
 */
function readPrometheusHeaders(reader: InputReader): Record<string, string> {
  const headers: Record<string, string> = {};
  const token = reader.string('prometheus-token');
  maskSecret(token);
  for (const line of reader.list('prometheus-headers', { separators: 'newline' })) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (!HEADER_NAME.test(name) || !value) {
      reader.problem(
        'prometheus-headers',
        `'${name || line.slice(0, 40)}' is not a header line`,
        'write one Name: value per line, e.g. X-Scope-OrgID: team-a',
      );
      continue;
    }
    if (SECRET_HEADER.test(name)) maskSecret(value);
    headers[name.toLowerCase()] = value;
  }
  if (token) {
    if (headers.authorization)
      reader.problem(
        'prometheus-token',
        'is set while prometheus-headers has an Authorization header too',
        'give the token in one of them: prometheus-token for Bearer, the header for another scheme',
      );
    else headers.authorization = `Bearer ${token}`;
  }
  return headers;
}
