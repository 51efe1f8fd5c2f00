import type { Measurement } from './http-probe.js';

export type Comparison = '<' | '<=' | '>' | '>=';

/** A query in the provider's language (PromQL, a Datadog query, NRQL, …) and the limit its value must keep. */
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

/**
 * Where metric checks are measured: one query gives one number now, or no data, or says why not. Every
 * provider (Prometheus, Datadog, New Relic, CloudWatch, a web endpoint) is one of these, so the checks'
 * semantics (schedule, failure limit, inconclusive) are the same whichever answers.
 */
export interface MetricSource {
  /** The provider as the log names it: `Prometheus`, `Datadog`. */
  provider: string;
  query(query: string, options: { timeoutMs: number }): Promise<QueryResult>;
}

const THRESHOLD = /^(.*\S)\s*(<=|>=|<|>)\s*(-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[-+]?[0-9]+)?)\s*$/i;

/**
 * Reads `name: <query> <op> <number>`: the last comparison with a number is the limit (so a query may
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
 * What is plainly wrong with a query (PromQL, a Datadog query, NRQL, a JSONPath), found before any is
 * sent: unbalanced brackets or an unclosed string. (The provider judges the rest; its answer to a bad
 * query is a failed measurement.)
 */
export function bracketProblem(query: string): string | undefined {
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
export function judgeMetric(
  check: MetricCheck,
  result: QueryResult,
  ms: number,
  provider: string,
  at = new Date(),
): Measurement {
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
      return { ...base, ok: false, inconclusive: true, detail: `${provider} unreachable: ${result.error}` };
    case 'query-error':
      return { ...base, ok: false, detail: `query error: ${result.error}` };
  }
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4).replace(/\.?0+$/, '');
}
