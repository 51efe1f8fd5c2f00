import { httpFailure, httpRequest, type HttpResponse } from '@deploy-suite/action-kit';
import type { MetricCheck, MetricSource, QueryResult } from './metric-check.js';

interface PrometheusResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { value?: [number, string] }[] | [number, string] };
}

/**
 * An instant query (GET /api/v1/query). A vector must hold exactly one sample (aggregate with sum/max in
 * the query); NaN (0/0, as an error rate with no traffic) counts as no data.
 */
export async function queryInstant(
  baseUrl: string,
  query: string,
  options: { timeoutMs: number; headers?: Record<string, string> },
): Promise<QueryResult> {
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', query);
  let response: HttpResponse;
  try {
    response = await httpRequest(url, { headers: options.headers ?? {}, timeoutMs: options.timeoutMs });
  } catch (error) {
    return { kind: 'unreachable', error: httpFailure(error) };
  }
  if (response.status === 401 || response.status === 403)
    return {
      kind: 'unreachable',
      error: `HTTP ${response.status}: the Prometheus refused the query's credentials (check prometheus-token and prometheus-headers)`,
    };
  let body: PrometheusResponse;
  try {
    body = response.json<PrometheusResponse>();
  } catch {
    return response.ok
      ? { kind: 'query-error', error: 'the answer is not JSON' }
      : { kind: 'unreachable', error: `HTTP ${response.status}` };
  }
  if (body.status !== 'success')
    return response.status >= 500 && response.status !== 503
      ? { kind: 'unreachable', error: `HTTP ${response.status}: ${body.error ?? ''}` }
      : { kind: 'query-error', error: body.error ?? `HTTP ${response.status}` };
  const data = body.data;
  let sample: string | undefined;
  if (data?.resultType === 'scalar') sample = (data.result as [number, string])[1];
  else if (data?.resultType === 'vector') {
    const vector = data.result as { value?: [number, string] }[];
    if (vector.length === 0) return { kind: 'no-data' };
    if (vector.length > 1)
      return { kind: 'query-error', error: `${vector.length} series; aggregate the query to one (sum, max, …)` };
    sample = vector[0]!.value?.[1];
  } else
    return { kind: 'query-error', error: `a ${data?.resultType ?? 'missing'} result; use an instant vector or scalar` };
  const value = Number(sample);
  if (sample === undefined || Number.isNaN(value)) return { kind: 'no-data' };
  return { kind: 'value', value };
}

const LABEL_MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")\s*$/;

/**
 * Label matchers as PromQL writes them between braces, `namespace="shop", cluster=~"eu-.*"`: each one
 * normalised (`name="value"`), or what is wrong with the first that is not one. Commas inside a quoted
 * value stay in it.
 */
export function parseLabelMatchers(text: string): { matchers: string[] } | { problem: string } {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\') {
      current += c + (text[++i] ?? '');
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      parts.push(current);
      current = '';
    } else current += c;
  }
  parts.push(current);
  const matchers: string[] = [];
  for (const part of parts) {
    if (!part.trim()) continue;
    const m = LABEL_MATCHER.exec(part);
    if (!m)
      return {
        problem: `'${part.trim()}' is not a label matcher (name="value", name!="value", name=~"regex" or name!~"regex")`,
      };
    matchers.push(`${m[1]}${m[2]}${m[3]}`);
  }
  return { matchers };
}

/** The label names a list of normalised matchers (from parseLabelMatchers) matches on. */
export function matcherLabels(matchers: string[]): string[] {
  return matchers.map((m) => /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(m)![0]);
}

/**
 * The built-in checks of a colour: 5xx share of requests and p95 latency, over a window. `matchers`
 * narrow the series further than app and colour (the namespace: the same app in staging and production
 * scraped by one Prometheus is two apps).
 */
export function builtInMetricChecks(options: {
  app: string;
  colour: string;
  window: string;
  matchers?: string[];
  errorRateMax?: number;
  p95MaxSeconds?: number;
  requestsMetric?: string;
  durationMetric?: string;
}): MetricCheck[] {
  const selector = [`app="${options.app}"`, `colour="${options.colour}"`, ...(options.matchers ?? [])].join(',');
  const requests = options.requestsMetric ?? 'http_requests_total';
  const duration = options.durationMetric ?? 'http_request_duration_seconds';
  const checks: MetricCheck[] = [];
  if (options.errorRateMax !== undefined) {
    checks.push({
      name: 'error-rate',
      query: `sum(rate(${requests}{${selector},code=~"5.."}[${options.window}])) / sum(rate(${requests}{${selector}}[${options.window}]))`,
      comparison: '<=',
      limit: options.errorRateMax,
    });
  }
  if (options.p95MaxSeconds !== undefined) {
    checks.push({
      name: 'p95-latency',
      query: `histogram_quantile(0.95, sum by (le) (rate(${duration}_bucket{${selector}}[${options.window}])))`,
      comparison: '<=',
      limit: options.p95MaxSeconds,
    });
  }
  return checks;
}

/** A Prometheus (or a managed one behind its token and headers) as the analysis's metric source. */
export function prometheusSource(baseUrl: string, headers: Record<string, string> = {}): MetricSource {
  return {
    provider: 'Prometheus',
    query: (query, { timeoutMs }) => queryInstant(baseUrl, query, { timeoutMs, headers }),
  };
}
