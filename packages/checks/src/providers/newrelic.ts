import type { MetricCheck, MetricSource, QueryResult } from '../metric-check.js';
import { errorText, requestMetricJson } from '../metric-http.js';

/** NerdGraph's endpoint per New Relic region, or a URL given instead (a proxy); undefined when neither. */
export function newRelicEndpoint(region: string): URL | undefined {
  if (region === 'us') return new URL('https://api.newrelic.com/graphql');
  if (region === 'eu') return new URL('https://api.eu.newrelic.com/graphql');
  if (/^https?:\/\//.test(region)) {
    try {
      return new URL(region);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

const NRQL_QUERY =
  'query($accountId: Int!, $nrql: Nrql!) { actor { account(id: $accountId) { nrql(query: $nrql) { results } } } }';

interface NerdGraphResponse {
  data?: { actor?: { account?: { nrql?: { results?: Record<string, unknown>[] } | null } | null } };
  errors?: { message?: string; extensions?: { error_code?: string; errorClass?: string } }[];
}

/** Keys of an NRQL result row that describe the row, not what was selected. */
const ROW_METADATA = new Set(['beginTimeSeconds', 'endTimeSeconds', 'facet', 'timestamp']);

/**
 * The numbers an NRQL result row holds, nested ones included (`percentile(duration, 95)` comes back as
 * `{"percentile.duration": {"95": 0.2}}`), with a null for each selected value that had no data.
 */
export function nrqlRowValues(row: Record<string, unknown>): (number | null)[] {
  const values: (number | null)[] = [];
  const walk = (value: unknown) => {
    if (value === null) values.push(null);
    else if (typeof value === 'number') values.push(value);
    else if (value && typeof value === 'object' && !Array.isArray(value)) Object.values(value).forEach(walk);
  };
  for (const [key, value] of Object.entries(row)) if (!ROW_METADATA.has(key)) walk(value);
  return values;
}

/**
 * NRQL through NerdGraph (POST /graphql, the user key in API-Key): the query must come back as one row
 * holding one number (one aggregate, no FACET or TIMESERIES).
 */
export function newRelicSource(options: { endpoint: URL; apiKey: string; accountId: number }): MetricSource {
  const provider = 'New Relic';
  return {
    provider,
    async query(query, { timeoutMs }): Promise<QueryResult> {
      const answer = await requestMetricJson<NerdGraphResponse>(
        options.endpoint,
        {
          method: 'POST',
          headers: { 'API-Key': options.apiKey },
          body: { query: NRQL_QUERY, variables: { accountId: options.accountId, nrql: query } },
          timeoutMs,
        },
        { provider, credentials: 'newrelic-api-key (a user key) and newrelic-region' },
      );
      if ('failed' in answer) return answer.failed;
      const { status, body } = answer;
      // A key refused can come back as a GraphQL error of a 200 as well as a 401: the provider's answer
      // about credentials is never the release's fault.
      if (
        body.errors?.some((e) =>
          /API_KEY|UNAUTHORIZED|FORBIDDEN/.test(e.extensions?.error_code ?? e.extensions?.errorClass ?? ''),
        )
      )
        return {
          kind: 'unreachable',
          error: `${errorText(body)} (check newrelic-api-key: a user key, and newrelic-region)`,
        };
      if (body.errors?.length) return { kind: 'query-error', error: errorText(body) };
      if (status >= 400) return { kind: 'query-error', error: `HTTP ${status}: ${errorText(body)}` };
      const results = body.data?.actor?.account?.nrql?.results;
      if (!results)
        return {
          kind: 'query-error',
          error: `no NRQL results for account ${options.accountId} (check newrelic-account-id and the key's access to it)`,
        };
      if (results.length === 0) return { kind: 'no-data' };
      if (results.length > 1)
        return {
          kind: 'query-error',
          error: `${results.length} rows; select one aggregate, without FACET or TIMESERIES`,
        };
      const values = nrqlRowValues(results[0]!);
      if (values.length > 1)
        return { kind: 'query-error', error: `${values.length} values in the row; select one aggregate` };
      const value = values[0];
      if (value === undefined || value === null || !Number.isFinite(value)) return { kind: 'no-data' };
      return { kind: 'value', value };
    },
  };
}

/**
 * The built-in checks on APM Transaction events (what New Relic's agents record for every request): the
 * share answered 5xx and the p95 of their duration (seconds), for the app (appName) and colour (a custom
 * attribute the app adds, as the Prometheus label) over the window; `where` narrows further (NRQL).
 */
export function newRelicBuiltInChecks(options: {
  app: string;
  colour: string;
  windowSeconds: number;
  where?: string;
  errorRateMax?: number;
  p95MaxSeconds?: number;
}): MetricCheck[] {
  const where = [
    `appName = '${options.app}'`,
    `colour = '${options.colour}'`,
    ...(options.where ? [`(${options.where})`] : []),
  ].join(' AND ');
  const since = `SINCE ${options.windowSeconds} seconds ago`;
  const checks: MetricCheck[] = [];
  if (options.errorRateMax !== undefined)
    checks.push({
      name: 'error-rate',
      query: `SELECT filter(count(*), WHERE numeric(http.statusCode) >= 500) / count(*) FROM Transaction WHERE ${where} ${since}`,
      comparison: '<=',
      limit: options.errorRateMax,
    });
  if (options.p95MaxSeconds !== undefined)
    checks.push({
      name: 'p95-latency',
      query: `SELECT percentile(duration, 95) FROM Transaction WHERE ${where} ${since}`,
      comparison: '<=',
      limit: options.p95MaxSeconds,
    });
  return checks;
}
