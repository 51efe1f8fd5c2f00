import { JSONPath } from 'jsonpath-plus';
import { bracketProblem, type MetricSource, type QueryResult } from '../metric-check.js';
import { errorText, requestMetricJson } from '../metric-http.js';

export interface WebQuery {
  url: URL;
  /** A JSONPath into the answer (jsonpath-plus's dialect, `$.data.errorRate`): it must select one number. */
  path: string;
}

/**
 * A web check's query, `<http(s) URL> <JSONPath>`, or what is wrong with it (found before anything is
 * sent). The URL's placeholders are filled before this; spaces inside it must be %20.
 */
export function parseWebQuery(query: string): WebQuery | { problem: string; fix: string } {
  const m = /^(\S+)\s+(\S.*)$/.exec(query.trim());
  if (!m)
    return {
      problem: `'${query}' is not '<URL> <JSONPath>'`,
      fix: 'give the URL, a space, then a JSONPath such as $.data.errorRate',
    };
  let url: URL | undefined;
  try {
    url = new URL(m[1]!);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol))
    return {
      problem: `'${m[1]}' is not an http(s) URL`,
      fix: 'give the full URL, e.g. https://stats.shop.example/api/errors',
    };
  const path = m[2]!.trim();
  const syntax = path.startsWith('$') ? bracketProblem(path) : 'a JSONPath starts with $';
  if (syntax)
    return {
      problem: `'${path}' is not a JSONPath: ${syntax}`,
      fix: 'write it as $.field, $.data[0].value or $..rate',
    };
  return { url, path };
}

/** The one number a JSONPath selects from an answer, or why there is none. */
export function selectNumber(body: unknown, path: string): QueryResult {
  let selected: unknown[];
  try {
    // eval 'safe': filters run in jsonpath-plus's own interpreter, never as JavaScript.
    selected = JSONPath({ path, json: body as object, wrap: true, eval: 'safe' }) as unknown[];
  } catch (error) {
    return { kind: 'query-error', error: `the JSONPath ${path} cannot be applied: ${(error as Error).message}` };
  }
  if (selected.length === 0 || (selected.length === 1 && selected[0] === null)) return { kind: 'no-data' };
  if (selected.length > 1)
    return { kind: 'query-error', error: `${path} selects ${selected.length} values; narrow it to one` };
  const value = selected[0];
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  if (typeof value === 'string' && value.trim().toLowerCase() === 'nan') return { kind: 'no-data' };
  if (!Number.isFinite(number))
    return { kind: 'query-error', error: `${path} selects ${JSON.stringify(value).slice(0, 80)}, not a number` };
  return { kind: 'value', value: number };
}

/** Any JSON endpoint (GET, the given headers): a check's query is the URL and the JSONPath of its number. */
export function webSource(options: { headers: Record<string, string> }): MetricSource {
  const provider = 'the web endpoint';
  return {
    provider,
    async query(query, { timeoutMs }): Promise<QueryResult> {
      const parsed = parseWebQuery(query);
      if ('problem' in parsed) return { kind: 'query-error', error: parsed.problem };
      const answer = await requestMetricJson<unknown>(
        parsed.url,
        { headers: options.headers, timeoutMs },
        { provider, credentials: 'web-headers' },
      );
      if ('failed' in answer) return answer.failed;
      if (answer.status >= 400)
        return { kind: 'query-error', error: `HTTP ${answer.status}: ${errorText(answer.body)}` };
      return selectNumber(answer.body, parsed.path);
    },
  };
}
