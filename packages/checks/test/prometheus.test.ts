import { describe, expect, it } from '@jest/globals';
import { builtInMetricChecks, compare, judgeMetric, parseMetricCheck, promqlProblem, runCheck } from '../src/index.js';

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
    expect(judgeMetric(check, { kind: 'value', value: 0.01 }, 3)).toMatchObject({ ok: true, detail: '0.01 <= 0.05' });
    expect(judgeMetric(check, { kind: 'value', value: 0.2 }, 3)).toMatchObject({
      ok: false,
      detail: '0.2 not <= 0.05',
    });
    expect(judgeMetric(check, { kind: 'no-data' }, 3)).toMatchObject({
      ok: false,
      inconclusive: true,
      detail: 'no data',
    });
    expect(judgeMetric(check, { kind: 'unreachable', error: 'ECONNREFUSED' }, 3)).toMatchObject({
      inconclusive: true,
      detail: 'Prometheus unreachable: ECONNREFUSED',
    });
    expect(judgeMetric(check, { kind: 'query-error', error: 'parse error' }, 3)).toMatchObject({
      ok: false,
      detail: 'query error: parse error',
    });
    expect(judgeMetric(check, { kind: 'query-error', error: 'x' }, 3).inconclusive).toBeUndefined();
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
  const seq = (ms: { ok: boolean; inconclusive?: boolean }[]) => {
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
    expect(promqlProblem(query)).toBeUndefined();
  });

  it.each([
    ['max(queue_depth', "')' is missing at the end"],
    ['rate(x[1m)', "')' at 10 closes nothing opened there (expected ']')"],
    ['sum(x))', "')' at 7 closes nothing"],
    ['x{app="shop}', 'the string opened with " is not closed'],
  ])('refuses %s: %s', (query, problem) => {
    expect(promqlProblem(query)).toBe(problem);
  });
});
