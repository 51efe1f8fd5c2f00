// Metric queries against the platform's real Prometheus (Debian), scraping the metrics emitter the test
// sets per app and colour.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { builtInMetricChecks, judgeMetric, queryInstant } from '@deploy-suite/checks';
import { playRelease, waitForSamples } from '../support/metrics.js';

const prometheus = process.env.DEPLOY_SUITE_PROMETHEUS!;
const app = `m${randomBytes(3).toString('hex')}`;
const namespace = 'production';
const matchers = [`namespace="${namespace}"`];

describe('Prometheus queries', () => {
  it("measures a colour's error rate and p95 latency as the emitter plays them", async () => {
    await playRelease(namespace, app, 'green', { rps: 50, errorRate: 0.2, latencySeconds: 0.3 });
    await playRelease(namespace, app, 'blue', { rps: 50, errorRate: 0, latencySeconds: 0.02 });
    // The same app and colour in another namespace, failing: the namespace keeps it out.
    await playRelease('staging', app, 'blue', { rps: 50, errorRate: 0.9, latencySeconds: 2 });
    await waitForSamples(namespace, app, 'green', 6);
    const [errors, p95] = builtInMetricChecks({
      app,
      colour: 'green',
      window: '5s',
      matchers,
      errorRateMax: 0.05,
      p95MaxSeconds: 0.25,
    });
    const errorRate = await queryInstant(prometheus, errors!.query, { timeoutMs: 5000 });
    expect(errorRate.kind === 'value' && Math.abs(errorRate.value - 0.2) < 0.02).toBe(true);
    expect(judgeMetric(errors!, errorRate, 1, 'Prometheus').ok).toBe(false);
    const latency = await queryInstant(prometheus, p95!.query, { timeoutMs: 5000 });
    expect(latency.kind === 'value' && latency.value > 0.25 && latency.value <= 0.5).toBe(true);
    const [blueErrors, blueP95] = builtInMetricChecks({
      app,
      colour: 'blue',
      window: '5s',
      matchers,
      errorRateMax: 0.05,
      p95MaxSeconds: 0.25,
    });
    expect(
      judgeMetric(blueErrors!, await queryInstant(prometheus, blueErrors!.query, { timeoutMs: 5000 }), 1, 'Prometheus')
        .ok,
    ).toBe(true);
    expect(
      judgeMetric(blueP95!, await queryInstant(prometheus, blueP95!.query, { timeoutMs: 5000 }), 1, 'Prometheus').ok,
    ).toBe(true);
  }, 60_000);

  it('no series is no data; a bad query and several series are errors; a closed port is unreachable', async () => {
    expect(
      await queryInstant(prometheus, `sum(rate(http_requests_total{app="${app}-none"}[5s]))`, { timeoutMs: 5000 }),
    ).toEqual({ kind: 'no-data' });
    expect(
      await queryInstant(
        prometheus,
        `sum(rate(http_requests_total{app="${app}-none",code=~"5.."}[5s])) / sum(rate(http_requests_total{app="${app}-none"}[5s]))`,
        { timeoutMs: 5000 },
      ),
    ).toEqual({ kind: 'no-data' });
    const bad = await queryInstant(prometheus, 'sum(rate(x[5s]', { timeoutMs: 5000 });
    expect(bad.kind).toBe('query-error');
    const many = await queryInstant(prometheus, `rate(http_requests_total{app="${app}"}[5s])`, { timeoutMs: 5000 });
    expect(many).toMatchObject({ kind: 'query-error', error: expect.stringContaining('aggregate the query') });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await queryInstant(`http://127.0.0.1:${port}`, 'up', { timeoutMs: 2000 })).toEqual({
      kind: 'unreachable',
      error: 'ECONNREFUSED',
    });
  }, 30_000);
});
