import type { MetricCheck, MetricSource, QueryResult } from '../metric-check.js';
import { errorText, requestMetricJson } from '../metric-http.js';

/** Datadog's sites (the `site` of its agents and clients); the API of each is at `api.<site>`. */
export const DATADOG_SITES = [
  'datadoghq.com',
  'us3.datadoghq.com',
  'us5.datadoghq.com',
  'datadoghq.eu',
  'ap1.datadoghq.com',
  'ap2.datadoghq.com',
  'uk1.datadoghq.com',
  'ddog-gov.com',
  'us2.ddog-gov.com',
] as const;

/**
 * The API base of a site name, or of a URL given instead (a PrivateLink endpoint or a proxy in front of
 * the API); undefined when it is neither. `app.datadoghq.com`, as the browser shows it, is its site.
 */
export function datadogApiBase(site: string): URL | undefined {
  if (/^https?:\/\//.test(site)) {
    try {
      return new URL(site.endsWith('/') ? site : `${site}/`);
    } catch {
      return undefined;
    }
  }
  const name = site.replace(/^(app|api)\./, '');
  return (DATADOG_SITES as readonly string[]).includes(name) ? new URL(`https://api.${name}/`) : undefined;
}

interface DatadogQueryResponse {
  status?: string;
  error?: string;
  series?: { pointlist?: [number, number | null][]; scope?: string }[];
}

/**
 * Datadog's metrics query API (GET /api/v1/query, from and to in seconds): the query must come back as one
 * series (aggregate it: sum:…, no `by {…}`), and its value is the series' last point that has one.
 */
export function datadogSource(options: {
  base: URL;
  apiKey: string;
  applicationKey: string;
  windowSeconds: number;
  now?: () => number;
}): MetricSource {
  const provider = 'Datadog';
  return {
    provider,
    async query(query, { timeoutMs }): Promise<QueryResult> {
      const to = Math.floor((options.now?.() ?? Date.now()) / 1000);
      const url = new URL('api/v1/query', options.base);
      url.searchParams.set('from', String(to - options.windowSeconds));
      url.searchParams.set('to', String(to));
      url.searchParams.set('query', query);
      const answer = await requestMetricJson<DatadogQueryResponse>(
        url,
        { headers: { 'DD-API-KEY': options.apiKey, 'DD-APPLICATION-KEY': options.applicationKey }, timeoutMs },
        { provider, credentials: 'datadog-api-key, datadog-application-key and datadog-site' },
      );
      if ('failed' in answer) return answer.failed;
      const { status, body } = answer;
      if (status >= 400 || (body.status !== undefined && body.status !== 'ok'))
        return { kind: 'query-error', error: errorText(body) || `HTTP ${status}` };
      const series = body.series ?? [];
      if (series.length === 0) return { kind: 'no-data' };
      if (series.length > 1)
        return {
          kind: 'query-error',
          error: `${series.length} series (${series.map((s) => s.scope ?? '?').join('; ')}); aggregate the query to one (sum:…, without by {…})`,
        };
      const points = series[0]!.pointlist ?? [];
      for (let i = points.length - 1; i >= 0; i--) {
        const value = points[i]![1];
        if (typeof value === 'number' && Number.isFinite(value)) return { kind: 'value', value };
      }
      return { kind: 'no-data' };
    },
  };
}

/**
 * Datadog tags as the selector gives them, `key:value` separated by commas (`!key:value` excludes): each
 * one, or what is wrong with the first that is not a tag.
 */
export function parseDatadogTags(text: string): { tags: string[] } | { problem: string } {
  const tags: string[] = [];
  for (const part of text.split(',')) {
    const tag = part.trim();
    if (!tag) continue;
    if (!/^!?[a-zA-Z][\w./-]*:[^\s,{}]+$/.test(tag))
      return { problem: `'${tag}' is not a Datadog tag (key:value, or !key:value to exclude)` };
    tags.push(tag);
  }
  return { tags };
}

/**
 * The built-in checks on APM trace metrics (what Datadog's tracers send for every service): the share of
 * errored requests and the p95 of their duration (seconds; needs percentiles on the trace metric, as
 * Datadog's "trace.<span>" distribution has), for the service (app) and colour tags over the window.
 */
export function datadogBuiltInChecks(options: {
  app: string;
  colour: string;
  windowSeconds: number;
  tags: string[];
  /** The span name of the service's requests: `http.request`, or a framework's (`express.request`). */
  operation?: string;
  errorRateMax?: number;
  p95MaxSeconds?: number;
}): MetricCheck[] {
  const scope = [`service:${options.app}`, `colour:${options.colour}`, ...options.tags].join(',');
  const op = options.operation ?? 'http.request';
  const rollup = `.rollup(sum, ${options.windowSeconds})`;
  const checks: MetricCheck[] = [];
  if (options.errorRateMax !== undefined)
    checks.push({
      name: 'error-rate',
      query: `sum:trace.${op}.errors{${scope}}.as_count()${rollup} / sum:trace.${op}.hits{${scope}}.as_count()${rollup}`,
      comparison: '<=',
      limit: options.errorRateMax,
    });
  if (options.p95MaxSeconds !== undefined)
    checks.push({
      name: 'p95-latency',
      query: `p95:trace.${op}{${scope}}.rollup(avg, ${options.windowSeconds})`,
      comparison: '<=',
      limit: options.p95MaxSeconds,
    });
  return checks;
}
