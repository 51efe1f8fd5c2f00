import type { MetricCheck, MetricSource } from '../metric-check.js';
import { builtInMetricChecks, prometheusSource } from '../prometheus.js';
import { cloudWatchSource } from './cloudwatch.js';
import { datadogBuiltInChecks, datadogSource } from './datadog.js';
import { newRelicBuiltInChecks, newRelicSource } from './newrelic.js';
import { webSource } from './web.js';

/** Where the metric checks are measured, and with what: each provider's connection, read from the inputs. */
export type MetricsProvider =
  | { kind: 'prometheus'; url: string; headers: Record<string, string> }
  | { kind: 'datadog'; base: URL; apiKey: string; applicationKey: string }
  | { kind: 'newrelic'; endpoint: URL; apiKey: string; accountId: number }
  | { kind: 'cloudwatch'; region: string; endpoint?: URL }
  | { kind: 'web'; headers: Record<string, string> };

export type MetricsProviderKind = MetricsProvider['kind'];

export const METRICS_PROVIDERS: readonly MetricsProviderKind[] = [
  'prometheus',
  'datadog',
  'newrelic',
  'cloudwatch',
  'web',
];

/**
 * What narrows the built-in checks beyond app and colour, in the provider's own terms: Prometheus label
 * matchers, Datadog tags, an NRQL condition. (The web provider has no built-in checks.)
 */
export type MetricsSelector =
  | { kind: 'prometheus'; matchers: string[] }
  | { kind: 'datadog'; tags: string[] }
  | { kind: 'newrelic'; where: string }
  | { kind: 'cloudwatch' }
  | { kind: 'web' };

/** The selector a provider's built-in checks use when none is given: the namespace where the provider tags it. */
export const DEFAULT_SELECTORS: Readonly<Record<MetricsProviderKind, string>> = {
  prometheus: 'namespace="{{namespace}}"',
  // The tag Datadog's Kubernetes integration puts on every series of a pod.
  datadog: 'kube_namespace:{{namespace}}',
  // APM Transaction events carry no namespace unless the app adds one: appName narrows them.
  newrelic: 'none',
  cloudwatch: 'none',
  web: 'none',
};

/**
 * Why a provider has no built-in error-rate and p95 checks, or undefined when it has them. CloudWatch's
 * request metrics (a load balancer's target group, Application Signals' service) carry no colour: a
 * check of the live colour there is a query on a series that has one, which only the user can name.
 */
export function noBuiltInChecks(kind: MetricsProviderKind): string | undefined {
  if (kind === 'web') return 'it knows no request metrics';
  if (kind === 'cloudwatch')
    return "CloudWatch's request metrics (a target group's, Application Signals') carry no colour";
  return undefined;
}

export function metricSource(provider: MetricsProvider, windowSeconds: number): MetricSource {
  switch (provider.kind) {
    case 'prometheus':
      return prometheusSource(provider.url, provider.headers);
    case 'datadog':
      return datadogSource({ ...provider, windowSeconds });
    case 'newrelic':
      return newRelicSource(provider);
    case 'cloudwatch':
      return cloudWatchSource({ ...provider, windowSeconds });
    case 'web':
      return webSource(provider);
  }
}

/** The window as seconds (`30s`, `1m`, `500ms` rounds up to 1 s), for the providers that take it as a number. */
export function windowSeconds(window: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(window);
  if (!m) throw new Error(`'${window}' is not a window (30s, 1m, 5m)`);
  const n = Number(m[1]);
  const seconds = m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : n * 3600;
  return Math.max(1, Math.ceil(seconds));
}

/** The built-in checks of a colour (error rate, p95 latency) in the provider's query language. */
export function builtInChecksFor(
  selector: MetricsSelector,
  options: { app: string; colour: string; window: string; errorRateMax?: number; p95MaxSeconds?: number },
): MetricCheck[] {
  const limits = {
    ...(options.errorRateMax !== undefined ? { errorRateMax: options.errorRateMax } : {}),
    ...(options.p95MaxSeconds !== undefined ? { p95MaxSeconds: options.p95MaxSeconds } : {}),
  };
  const base = { app: options.app, colour: options.colour, ...limits };
  switch (selector.kind) {
    case 'prometheus':
      return builtInMetricChecks({ ...base, window: options.window, matchers: selector.matchers });
    case 'datadog':
      return datadogBuiltInChecks({ ...base, windowSeconds: windowSeconds(options.window), tags: selector.tags });
    case 'newrelic':
      return newRelicBuiltInChecks({
        ...base,
        windowSeconds: windowSeconds(options.window),
        ...(selector.where ? { where: selector.where } : {}),
      });
    case 'cloudwatch':
    case 'web':
      return [];
  }
}
