import { httpFailure, httpRequest, type HttpResponse } from '@deploy-suite/action-kit';
import type { Measurement } from './http-probe.js';

export type Comparison = '<' | '<=' | '>' | '>=';

/** A PromQL query and the limit its value must keep to be healthy. */
export interface MetricCheck {
  name: string;
  query: string;
  comparison: Comparison;
  limit: number;
}

export type QueryResult =
  | { kind: 'value'; value: number }
  | { kind: 'no-data' }
  | { kind: 'unreachable'; error: string }
  | { kind: 'query-error'; error: string };

const THRESHOLD = /^(.*\S)\s*(<=|>=|<|>)\s*(-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?)\s*$/i;

/**
 * Reads `name: <promql> <op> <number>`: the last comparison with a number is the limit (so a query may
 * use comparisons of its own before it). Undefined when the line has no such limit.
 */
export function parseMetricCheck(line: string): MetricCheck | undefined {
  const named = /^([a-z][a-z0-9_-]*)\s*:\s*(.+)$/i.exec(line.trim());
  if (!named) return undefined;
  const threshold = THRESHOLD.exec(named[2]!);
  if (!threshold) return undefined;
  return { name: named[1]!, query: threshold[1]!, comparison: threshold[2] as Comparison, limit: Number(threshold[3]) };
}

/**
 * What is plainly wrong with a PromQL expression, found before any query is sent: unbalanced brackets or
 * an unclosed string. (Prometheus judges the rest; its answer to a bad query is a failed measurement.)
 */
export function promqlProblem(query: string): string | undefined {
  const closing: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const open: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < query.length; i++) {
    const c = query[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c in closing) open.push(closing[c]!);
    else if (c === ')' || c === ']' || c === '}') {
      const expected = open.pop();
      if (expected !== c)
        return expected
          ? `'${c}' at ${i + 1} closes nothing opened there (expected '${expected}')`
          : `'${c}' at ${i + 1} closes nothing`;
    }
  }
  if (quote) return `the string opened with ${quote} is not closed`;
  if (open.length) return `'${open.at(-1)}' is missing at the end`;
  return undefined;
}

export function compare(value: number, comparison: Comparison, limit: number): boolean {
  switch (comparison) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
  }
}

/** Pure: a query result judged against the check's limit. No data and an unreachable server are inconclusive. */
export function judgeMetric(check: MetricCheck, result: QueryResult, ms: number, at = new Date()): Measurement {
  const base = { at: at.toISOString(), ms: Math.round(ms) };
  switch (result.kind) {
    case 'value': {
      const ok = compare(result.value, check.comparison, check.limit);
      return {
        ...base,
        ok,
        detail: `${formatValue(result.value)} ${ok ? '' : 'not '}${check.comparison} ${check.limit}`.replace('  ', ' '),
      };
    }
    case 'no-data':
      return { ...base, ok: false, inconclusive: true, awaitingData: true, detail: 'no data' };
    case 'unreachable':
      return { ...base, ok: false, inconclusive: true, detail: `Prometheus unreachable: ${result.error}` };
    case 'query-error':
      return { ...base, ok: false, detail: `query error: ${result.error}` };
  }
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, '');
}

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
