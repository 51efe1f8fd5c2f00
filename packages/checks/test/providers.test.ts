import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  startProviderStandIn,
  type ProviderAnswer,
  type ProviderStandIn,
} from '../../../test/support/metric-providers.js';
import {
  analyze,
  cloudWatchFailure,
  cloudWatchSource,
  readMetricData,
  datadogApiBase,
  datadogSource,
  metricSource,
  newRelicEndpoint,
  newRelicSource,
  nrqlRowValues,
  parseDatadogTags,
  parseWebQuery,
  selectNumber,
  webSource,
  windowSeconds,
  type MetricSource,
} from '../src/index.js';

const keys = {
  datadogApi: 'dd-api-0001',
  datadogApplication: 'dd-app-0002',
  newRelic: 'NRAK-0003',
  web: 'web-0004',
  aws: { accessKeyId: 'AKIASTANDIN0005', secretAccessKey: 'aws-secret-0006', region: 'us-east-1' },
};
let standIn: ProviderStandIn;
const awsEnv = {
  AWS_ACCESS_KEY_ID: keys.aws.accessKeyId,
  AWS_SECRET_ACCESS_KEY: keys.aws.secretAccessKey,
  AWS_EC2_METADATA_DISABLED: 'true',
};
const envBefore = Object.fromEntries(Object.keys(awsEnv).map((k) => [k, process.env[k]]));
beforeAll(async () => {
  standIn = await startProviderStandIn(keys);
  // The SDK's credential chain reads the environment, as in a job after configure-aws-credentials.
  Object.assign(process.env, awsEnv);
});
afterAll(async () => {
  for (const [k, v] of Object.entries(envBefore)) {
    Reflect.deleteProperty(process.env, k);
    if (v !== undefined) process.env[k] = v;
  }
  await standIn.close();
});

const timeoutMs = 2000;
const sources = (): Record<string, { source: MetricSource; query: string }> => ({
  datadog: {
    source: datadogSource({
      base: new URL(`${standIn.url}/`),
      apiKey: keys.datadogApi,
      applicationKey: keys.datadogApplication,
      windowSeconds: 60,
    }),
    query: 'sum:trace.http.request.errors{service:shop}.as_count()',
  },
  newrelic: {
    source: newRelicSource({ endpoint: new URL(`${standIn.url}/graphql`), apiKey: keys.newRelic, accountId: 42 }),
    query: "SELECT percentile(duration, 95) FROM Transaction WHERE appName = 'shop' SINCE 60 seconds ago",
  },
  cloudwatch: {
    source: cloudWatchSource({ region: keys.aws.region, endpoint: new URL(standIn.url), windowSeconds: 60 }),
    query: `SELECT SUM(Errors) FROM SCHEMA("Shop", Colour) WHERE Colour = 'blue'`,
  },
  web: {
    source: webSource({ headers: { authorization: `Bearer ${keys.web}` } }),
    query: `${standIn.url}/web/stats?app=shop $.data.errorRate`,
  },
});

describe.each(['datadog', 'newrelic', 'cloudwatch', 'web'])('the %s provider against its stand-in', (name) => {
  const ask = async (answer: ProviderAnswer) => {
    standIn.answer = () => answer;
    const { source, query } = sources()[name]!;
    return source.query(query, { timeoutMs });
  };

  it('a value, a null value (no data), no series (no data)', async () => {
    expect(await ask({ value: 0.004 })).toEqual({ kind: 'value', value: 0.004 });
    expect(await ask({ value: 0 })).toEqual({ kind: 'value', value: 0 });
    expect(await ask({ value: null })).toEqual({ kind: 'no-data' });
    expect(await ask('empty')).toEqual({ kind: 'no-data' });
  });

  it('several series and a bad query are errors of the query; down and rate limited are unreachable', async () => {
    expect(await ask('two-series')).toMatchObject({
      kind: 'query-error',
      error: expect.stringMatching(/2 (series|rows)|\[0.1,0.2\], not a number/),
    });
    expect(await ask('bad-query')).toMatchObject({ kind: 'query-error' });
    expect(await ask('down')).toMatchObject({ kind: 'unreachable', error: expect.stringMatching(/^HTTP 5/) });
    // CloudWatch throttles with a 400 coded Throttling; the others with a 429.
    expect(await ask('rate-limited')).toMatchObject({
      kind: 'unreachable',
      error: expect.stringMatching(/^HTTP (429|400: CloudWatch is throttling)/),
    });
  });

  it('sends the documented request with the keys in their headers', async () => {
    standIn.seen.length = 0;
    await ask({ value: 1 });
    const seen = standIn.seen.at(-1)!;
    if (name === 'datadog') {
      expect(seen).toMatchObject({ method: 'GET', path: '/api/v1/query', query: sources().datadog!.query });
      expect(seen.headers).toMatchObject({
        'dd-api-key': keys.datadogApi,
        'dd-application-key': keys.datadogApplication,
      });
    } else if (name === 'newrelic') {
      expect(seen).toMatchObject({ method: 'POST', path: '/graphql' });
      expect(seen.headers['api-key']).toBe(keys.newRelic);
      expect(JSON.parse(seen.body)).toMatchObject({ variables: { accountId: 42, nrql: sources().newrelic!.query } });
    } else if (name === 'cloudwatch') {
      expect(seen).toMatchObject({ method: 'POST', path: '/', query: sources().cloudwatch!.query });
      expect(seen.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.GetMetricData');
      expect(String(seen.headers.authorization)).toContain(`Credential=${keys.aws.accessKeyId}/`);
      expect(JSON.parse(seen.body)).toMatchObject({
        MetricDataQueries: [{ Id: 'check', Period: 60, ReturnData: true }],
      });
    } else {
      expect(seen).toMatchObject({ method: 'GET', query: '/web/stats?app=shop' });
      expect(seen.headers.authorization).toBe(`Bearer ${keys.web}`);
    }
  });
});

describe('provider details', () => {
  it("CloudWatch: GetMetricData's answer read newest first; what the SDK throws sorted as the analysis counts it", () => {
    expect(readMetricData({ MetricDataResults: [{ Id: 'check', Values: [3, 1], StatusCode: 'Complete' }] })).toEqual({
      kind: 'value',
      value: 3,
    });
    expect(readMetricData({ MetricDataResults: [{ Id: 'check', Values: [] }] })).toEqual({ kind: 'no-data' });
    expect(readMetricData({})).toEqual({ kind: 'no-data' });
    expect(
      readMetricData({
        MetricDataResults: [
          { Label: 'blue', Values: [1] },
          { Label: 'green', Values: [2] },
        ],
      }),
    ).toMatchObject({ kind: 'query-error', error: expect.stringMatching(/^2 series \(blue; green\)/) });
    expect(
      readMetricData({
        MetricDataResults: [{ Id: 'check', Values: [], StatusCode: 'Forbidden' }],
        Messages: [{ Code: 'Forbidden', Value: 'not authorized to perform cloudwatch:GetMetricData' }],
      }),
    ).toMatchObject({ kind: 'unreachable', error: expect.stringContaining('the role needs cloudwatch:GetMetricData') });
    expect(readMetricData({ MetricDataResults: [{ Values: [], StatusCode: 'InternalError' }] })).toMatchObject({
      kind: 'unreachable',
    });
    const thrown = (name: string, status?: number) =>
      Object.assign(new Error(`${name} happened`), {
        name,
        ...(status ? { $metadata: { httpStatusCode: status } } : {}),
      });
    expect(cloudWatchFailure(thrown('CredentialsProviderError'))).toMatchObject({
      kind: 'unreachable',
      error: expect.stringContaining('run aws-actions/configure-aws-credentials before this step'),
    });
    expect(cloudWatchFailure(thrown('ExpiredToken', 400))).toMatchObject({
      kind: 'unreachable',
      error: expect.stringContaining("CloudWatch refused the query's credentials (ExpiredToken"),
    });
    expect(cloudWatchFailure(thrown('AccessDenied', 403))).toMatchObject({ kind: 'unreachable' });
    expect(cloudWatchFailure(thrown('Throttling', 400))).toMatchObject({
      kind: 'unreachable',
      error: 'HTTP 400: CloudWatch is throttling the queries (Throttling)',
    });
    expect(cloudWatchFailure(thrown('InternalFailure', 500))).toMatchObject({ kind: 'unreachable' });
    expect(cloudWatchFailure(thrown('InvalidParameterValue', 400))).toEqual({
      kind: 'query-error',
      error: 'InvalidParameterValue: InvalidParameterValue happened',
    });
    expect(cloudWatchFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toMatchObject(
      {
        kind: 'unreachable',
      },
    );
  });

  it('Datadog asks for the window that ends now, and its keys refused are named', async () => {
    standIn.answer = () => ({ value: 2 });
    const source = datadogSource({
      base: new URL(`${standIn.url}/`),
      apiKey: 'wrong',
      applicationKey: keys.datadogApplication,
      windowSeconds: 120,
      now: () => 1_800_000_000_000,
    });
    expect(await source.query('sum:x{*}', { timeoutMs })).toEqual({
      kind: 'unreachable',
      error:
        "HTTP 403: Datadog refused the query's credentials (check datadog-api-key, datadog-application-key and datadog-site)",
    });
    const sent = new URLSearchParams(standIn.seen.at(-1)!.search);
    expect([sent.get('from'), sent.get('to'), sent.get('query')]).toEqual(['1799999880', '1800000000', 'sum:x{*}']);
  });

  it('New Relic: a refused key is unreachable (inconclusive) and names the inputs to check', async () => {
    standIn.answer = () => ({ value: 1 });
    const wrong = newRelicSource({ endpoint: new URL(`${standIn.url}/graphql`), apiKey: 'NRAK-wrong', accountId: 42 });
    expect(await wrong.query('SELECT count(*) FROM Transaction', { timeoutMs })).toEqual({
      kind: 'unreachable',
      error:
        "HTTP 401: New Relic refused the query's credentials (check newrelic-api-key (a user key) and newrelic-region)",
    });
  });

  it('reads NRQL rows: nested numbers, nulls, and the row metadata left out', () => {
    expect(nrqlRowValues({ 'percentile.duration': { '95': 0.25 } })).toEqual([0.25]);
    expect(nrqlRowValues({ result: null, beginTimeSeconds: 1, endTimeSeconds: 2 })).toEqual([null]);
    expect(nrqlRowValues({ count: 3, average: 2 })).toEqual([3, 2]);
  });

  it('JSONPath selects one number (a numeric string counts); a string, an object or two values do not', () => {
    const body = { data: { rate: 0.5, text: '0.25', name: 'x', list: [1, 2], nested: { v: 3 }, none: null } };
    expect(selectNumber(body, '$.data.rate')).toEqual({ kind: 'value', value: 0.5 });
    expect(selectNumber(body, '$.data.text')).toEqual({ kind: 'value', value: 0.25 });
    expect(selectNumber(body, '$.data.list[1]')).toEqual({ kind: 'value', value: 2 });
    expect(selectNumber(body, '$..v')).toEqual({ kind: 'value', value: 3 });
    expect(selectNumber(body, '$.data.none')).toEqual({ kind: 'no-data' });
    expect(selectNumber(body, '$.data.missing')).toEqual({ kind: 'no-data' });
    expect(selectNumber(body, '$.data.name')).toMatchObject({
      kind: 'query-error',
      error: '$.data.name selects "x", not a number',
    });
    expect(selectNumber(body, '$.data.nested')).toMatchObject({ kind: 'query-error' });
    expect(selectNumber(body, '$.data.list[*]')).toMatchObject({
      kind: 'query-error',
      error: '$.data.list[*] selects 2 values; narrow it to one',
    });
  });

  it('parses web queries, Datadog sites and tags, New Relic regions, windows', () => {
    expect(parseWebQuery('https://s.example/api?x=1 $.a.b')).toEqual({
      url: new URL('https://s.example/api?x=1'),
      path: '$.a.b',
    });
    expect(parseWebQuery('https://s.example/api')).toMatchObject({
      problem: expect.stringMatching(/is not '<URL> <JSONPath>'/),
    });
    expect(parseWebQuery("https://s.example/ $['a")).toMatchObject({
      problem: expect.stringMatching(/is not a JSONPath/),
    });
    expect(datadogApiBase('datadoghq.com')?.href).toBe('https://api.datadoghq.com/');
    expect(datadogApiBase('app.datadoghq.eu')?.href).toBe('https://api.datadoghq.eu/');
    expect(datadogApiBase('us5.datadoghq.com')?.href).toBe('https://api.us5.datadoghq.com/');
    expect(datadogApiBase('https://dd.internal.example/proxy')?.href).toBe('https://dd.internal.example/proxy/');
    expect(datadogApiBase('datadog.com')).toBeUndefined();
    expect(parseDatadogTags('kube_namespace:shop, !env:dev,')).toEqual({ tags: ['kube_namespace:shop', '!env:dev'] });
    expect(parseDatadogTags('env=prod')).toMatchObject({ problem: expect.stringMatching(/not a Datadog tag/) });
    expect(newRelicEndpoint('eu')?.href).toBe('https://api.eu.newrelic.com/graphql');
    expect(newRelicEndpoint('apac')).toBeUndefined();
    expect([windowSeconds('30s'), windowSeconds('2m'), windowSeconds('1h'), windowSeconds('500ms')]).toEqual([
      30, 120, 3600, 1,
    ]);
  });
});

describe('an analysis on each provider gives the verdicts a Prometheus analysis gives', () => {
  const schedule = { count: 3, intervalMs: 1, failureLimit: 0 };
  const run = async (
    provider: 'datadog' | 'newrelic' | 'cloudwatch' | 'web',
    answer: (n: number) => ProviderAnswer,
  ) => {
    let n = 0;
    standIn.answer = () => answer(n++);
    const connection =
      provider === 'datadog'
        ? {
            kind: provider,
            base: new URL(`${standIn.url}/`),
            apiKey: keys.datadogApi,
            applicationKey: keys.datadogApplication,
          }
        : provider === 'newrelic'
          ? { kind: provider, endpoint: new URL(`${standIn.url}/graphql`), apiKey: keys.newRelic, accountId: 7 }
          : provider === 'cloudwatch'
            ? { kind: provider, region: keys.aws.region, endpoint: new URL(standIn.url) }
            : { kind: provider, headers: { authorization: `Bearer ${keys.web}` } };
    const query = sources()[provider]!.query;
    const lines: string[] = [];
    const report = await analyze(
      {
        metrics: {
          source: metricSource(connection, 60),
          checks: [{ name: 'errors', query, comparison: '<=', limit: 0.01 }],
          schedule,
          timeoutMs,
        },
      },
      (line) => lines.push(line),
    );
    return { verdict: report.verdict, lines };
  };

  it.each(['datadog', 'newrelic', 'cloudwatch', 'web'] as const)(
    '%s: healthy passes, breaching fails, down and no data are inconclusive',
    async (provider) => {
      expect((await run(provider, () => ({ value: 0.001 }))).verdict).toBe('passed');
      const breaching = await run(provider, (n) => ({ value: n === 0 ? 0.001 : 0.2 }));
      expect(breaching.verdict).toBe('failed');
      expect(breaching.lines.at(-1)).toMatch(/errors 2\/3: FAILED, 0.2 not <= 0.01/);
      const down = await run(provider, () => 'down');
      expect(down.verdict).toBe('inconclusive');
      expect(down.lines[0]).toMatch(/(Datadog|New Relic|CloudWatch|the web endpoint) unreachable: HTTP 5/);
      // Data that never comes: measured as awaiting, then inconclusive.
      expect((await run(provider, () => 'empty')).verdict).toBe('inconclusive');
      // Awaiting data, then healthy: passes (a colour not yet scraped is not inconclusive).
      expect((await run(provider, (n) => (n < 2 ? 'empty' : { value: 0 }))).verdict).toBe('passed');
    },
  );
});
