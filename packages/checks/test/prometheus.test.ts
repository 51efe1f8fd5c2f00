import { describe, expect, it } from '@jest/globals';
import {
  builtInMetricChecks,
  compare,
  judgeMetric,
  matcherLabels,
  parseLabelMatchers,
  parseMetricCheck,
  bracketProblem,
  runCheck,
} from '../src/index.js';

describe('label matchers', () => {
  it.each([
    ['namespace="shop"', ['namespace="shop"']],
    [' namespace = "shop" , cluster=~"eu-.*" ', ['namespace="shop"', 'cluster=~"eu-.*"']],
    ['job!="a,b",x!~"\\"q\\","', ['job!="a,b"', 'x!~"\\"q\\","']],
    ['', []],
    ['a="1",', ['a="1"']],
  ])('%j is %j', (text, matchers) => {
    expect(parseLabelMatchers(text)).toEqual({ matchers });
  });

  it.each([
    ['namespace=shop', /'namespace=shop' is not a label matcher/],
    ['1ns="x"', /'1ns="x"' is not a label matcher/],
    ['a=="x"', /is not a label matcher/],
    ['a="x" b="y"', /is not a label matcher/],
    ['a="unclosed', /is not a label matcher/],
  ])('%j is refused', (text, problem) => {
    expect(parseLabelMatchers(text)).toEqual({ problem: expect.stringMatching(problem) });
  });

  it('names the labels matched on', () => {
    expect(matcherLabels(['namespace="a"', 'cluster=~"b"', 'job!="c"', 'x!~"d"'])).toEqual([
      'namespace',
      'cluster',
      'job',
      'x',
    ]);
  });
});

describe('metric checks', () => {
  it('reads name: query op limit, the last comparison with a number being the limit', () => {
    expect(parseMetricCheck('errors: sum(rate(x[1m])) < 0.05')).toEqual({
      name: 'errors',
      query: 'sum(rate(x[1m]))',
      comparison: '<',
      limit: 0.05,
    });
    expect(parseMetricCheck('saturation: max(queue_depth > 0) <= 1e3')).toEqual({
      name: 'saturation',
      query: 'max(queue_depth > 0)',
      comparison: '<=',
      limit: 1000,
    });
    expect(parseMetricCheck('up: min(up)>=1')).toMatchObject({ comparison: '>=', limit: 1 });
    expect(parseMetricCheck('sum(rate(x[1m])) < 0.05')).toBeUndefined();
    expect(parseMetricCheck('errors: sum(rate(x[1m]))')).toBeUndefined();
    expect(parseMetricCheck('errors: sum(rate(x[1m])) < lots')).toBeUndefined();
  });

  it.each([
    [1, '<', 2, true],
    [2, '<', 2, false],
    [2, '<=', 2, true],
    [3, '>', 2, true],
    [2, '>=', 2, true],
    [1, '>=', 2, false],
  ] as const)('%d %s %d is %s', (value, op, limit, expected) => {
    expect(compare(value, op, limit)).toBe(expected);
  });

  it('judges values; no data and an unreachable Prometheus are inconclusive; a bad query fails', () => {
    const check = { name: 'e', query: 'q', comparison: '<=' as const, limit: 0.05 };
    expect(judgeMetric(check, { kind: 'value', value: 0.01 }, 3, 'Prometheus')).toMatchObject({
      ok: true,
      detail: '0.01 <= 0.05',
    });
    expect(judgeMetric(check, { kind: 'value', value: 0.2 }, 3, 'Prometheus')).toMatchObject({
      ok: false,
      detail: '0.2 not <= 0.05',
    });
    expect(judgeMetric(check, { kind: 'no-data' }, 3, 'Prometheus')).toMatchObject({
      ok: false,
      inconclusive: true,
      detail: 'no data',
    });
    expect(judgeMetric(check, { kind: 'unreachable', error: 'ECONNREFUSED' }, 3, 'Prometheus')).toMatchObject({
      inconclusive: true,
      detail: 'Prometheus unreachable: ECONNREFUSED',
    });
    expect(judgeMetric(check, { kind: 'query-error', error: 'parse error' }, 3, 'Prometheus')).toMatchObject({
      ok: false,
      detail: 'query error: parse error',
    });
    expect(judgeMetric(check, { kind: 'query-error', error: 'x' }, 3, 'Prometheus').inconclusive).toBeUndefined();
  });

  it('built-in error rate and p95 queries select the colour', () => {
    const [errors, p95] = builtInMetricChecks({
      app: 'shop',
      colour: 'green',
      window: '30s',
      errorRateMax: 0.01,
      p95MaxSeconds: 0.3,
    });
    expect(errors).toEqual({
      name: 'error-rate',
      query:
        'sum(rate(http_requests_total{app="shop",colour="green",code=~"5.."}[30s])) / sum(rate(http_requests_total{app="shop",colour="green"}[30s]))',
      comparison: '<=',
      limit: 0.01,
    });
    expect(p95!.query).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{app="shop",colour="green"}[30s])))',
    );
    expect(builtInMetricChecks({ app: 'a', colour: 'blue', window: '1m' })).toEqual([]);
  });
});

describe('verdicts with inconclusive measurements', () => {
  const noSleep = async () => undefined;
  const seq = (ms: { ok: boolean; inconclusive?: boolean; awaitingData?: boolean }[]) => {
    let i = 0;
    return async () => ms[i++] ?? { ok: true };
  };

  it('all inconclusive is inconclusive; a failure beyond the limit is failed whatever else', async () => {
    expect(
      (
        await runCheck(
          { count: 3, intervalMs: 0, failureLimit: 0 },
          seq([
            { ok: false, inconclusive: true },
            { ok: false, inconclusive: true },
            { ok: false, inconclusive: true },
          ]),
          { sleep: noSleep },
        )
      ).verdict,
    ).toBe('inconclusive');
    expect(
      (
        await runCheck(
          { count: 3, intervalMs: 0, failureLimit: 0 },
          seq([{ ok: false, inconclusive: true }, { ok: false }]),
          { sleep: noSleep },
        )
      ).verdict,
    ).toBe('failed');
    expect(
      (
        await runCheck({ count: 2, intervalMs: 0, failureLimit: 0 }, seq([{ ok: true }, { ok: true }]), {
          sleep: noSleep,
        })
      ).verdict,
    ).toBe('passed');
  });

  it('measurements awaiting data before the first with data are not counted, count of them at most', async () => {
    const none = { ok: false, inconclusive: true, awaitingData: true };
    const schedule = { count: 3, intervalMs: 7, failureLimit: 0 };
    const sleeps: number[] = [];
    const seen: [number, boolean][] = [];
    const outcome = await runCheck(schedule, seq([none, none, { ok: true }, { ok: true }, { ok: true }]), {
      sleep: async (ms) => void sleeps.push(ms),
      onMeasurement: (_m, i, awaiting) => seen.push([i, awaiting]),
    });
    expect(outcome).toMatchObject({ verdict: 'passed', awaited: 2, inconclusive: 0 });
    expect(outcome.measurements).toHaveLength(5);
    expect(seen).toEqual([
      [0, true],
      [1, true],
      [0, false],
      [1, false],
      [2, false],
    ]);
    expect(sleeps).toEqual([7, 7, 7, 7]);
    // Never any data: count awaited, then count counted, all inconclusive.
    const never = await runCheck(schedule, seq(Array(6).fill(none)), { sleep: noSleep });
    expect(never).toMatchObject({ verdict: 'inconclusive', awaited: 3, inconclusive: 3 });
    expect(never.measurements).toHaveLength(6);
    // Data gone after it was seen counts: inconclusive. An unreachable Prometheus is never awaited.
    expect(await runCheck(schedule, seq([{ ok: true }, none, { ok: true }]), { sleep: noSleep })).toMatchObject({
      verdict: 'inconclusive',
      awaited: 0,
      inconclusive: 1,
    });
    expect(
      await runCheck(schedule, seq([{ ok: false, inconclusive: true }, { ok: true }, { ok: true }]), {
        sleep: noSleep,
      }),
    ).toMatchObject({ verdict: 'inconclusive', awaited: 0 });
    // A failure after the wait fails at once.
    expect(await runCheck(schedule, seq([none, { ok: false }]), { sleep: noSleep })).toMatchObject({
      verdict: 'failed',
      awaited: 1,
      failures: 1,
    });
  });

  it('no data is a measurement awaiting data; an unreachable Prometheus is not', () => {
    const check = { name: 'e', query: 'x', comparison: '<=' as const, limit: 1 };
    expect(judgeMetric(check, { kind: 'no-data' }, 1, 'Prometheus')).toMatchObject({
      inconclusive: true,
      awaitingData: true,
    });
    expect(judgeMetric(check, { kind: 'unreachable', error: 'ECONNREFUSED' }, 1, 'Prometheus')).not.toHaveProperty(
      'awaitingData',
    );
  });

  it('one inconclusive measurement among passes makes the check inconclusive, not passed; it is no failure either', async () => {
    const outcome = await runCheck(
      { count: 3, intervalMs: 0, failureLimit: 0 },
      seq([{ ok: true }, { ok: false, inconclusive: true }, { ok: true }]),
      { sleep: noSleep },
    );
    expect(outcome).toMatchObject({ verdict: 'inconclusive', passed: false, failures: 0, inconclusive: 1 });
    expect(outcome.measurements).toHaveLength(3);
  });

  it('an aborted schedule is inconclusive however its measurements went', async () => {
    const controller = new AbortController();
    const outcome = await runCheck({ count: 3, intervalMs: 0, failureLimit: 0 }, seq([{ ok: true }, { ok: true }]), {
      sleep: noSleep,
      onMeasurement: () => controller.abort(),
      signal: controller.signal,
    });
    expect(outcome).toMatchObject({ verdict: 'inconclusive', passed: false });
    expect(outcome.measurements).toHaveLength(1);
  });
});

describe('PromQL read before any query is sent', () => {
  it.each([
    'sum(rate(http_requests_total{app="shop",code=~"5.."}[1m])) / sum(rate(http_requests_total{app="shop"}[1m]))',
    'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{path="/a(b"}[5m])))',
    "max(queue_depth{name='x}'})",
    'up',
  ])('accepts %s', (query) => {
    expect(bracketProblem(query)).toBeUndefined();
  });

  it.each([
    ['max(queue_depth', "')' is missing at the end"],
    ['rate(x[1m)', "')' at 10 closes nothing opened there (expected ']')"],
    ['sum(x))', "')' at 7 closes nothing"],
    ['x{app="shop}', 'the string opened with " is not closed'],
  ])('refuses %s: %s', (query, problem) => {
    expect(bracketProblem(query)).toBe(problem);
  });
});
