import { describe, expect, it } from '@jest/globals';
import { InputReader } from '@deploy-suite/action-kit';
import { inputProblems } from '../../../test/support/input-problems.js';
import { analysisPlan, readVerifyRollbackInputs } from '../src/inputs.js';
import { timeline } from '../src/timeline.js';

const kubeconfig = `apiVersion: v1
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: team-a}}]
current-context: x
users: [{name: u, user: {token: abc123token}}]
`;
const D = `sha256:${'e'.repeat(64)}`;
const read = (values: Record<string, string>) =>
  readVerifyRollbackInputs(new InputReader((name) => ({ kubeconfig, app: 'shop', ...values })[name]), '/nonexistent', {
    HOME: '/nonexistent',
  });
const problems = (values: Record<string, string>) => inputProblems(() => read(values));
const datadog = {
  'metrics-provider': 'datadog',
  'datadog-api-key': 'k',
  'datadog-application-key': 'a',
  'error-rate-max': '0.1',
};
const newrelic = {
  'metrics-provider': 'newrelic',
  'newrelic-api-key': 'NRAK-1',
  'newrelic-account-id': '42',
  'p95-max': '1s',
};

describe('verify-rollback inputs', () => {
  it('manual rollback targets: previous, a revision, a digest (bare or with the name)', () => {
    expect(read({ 'rollback-to': 'previous' }).rollbackTo).toEqual({ kind: 'previous' });
    expect(read({ 'rollback-to': '12' }).rollbackTo).toEqual({ kind: 'revision', revision: 12 });
    expect(read({ 'rollback-to': D }).rollbackTo).toEqual({ kind: 'digest', digest: D });
    expect(read({ 'rollback-to': `reg/shop@${D}` }).rollbackTo).toEqual({ kind: 'digest', digest: D });
  });

  it('an analysis with built-in and custom metric checks, the colour filled in at run time', () => {
    const inputs = read({
      'prometheus-url': 'http://prom:9090',
      'error-rate-max': '0.01',
      'p95-max': '300ms',
      queries: 'queue: max(queue_depth{app="shop",colour="{{colour}}"}) < 100\n# comment\n',
      'http-url': 'https://shop.example/healthz',
    });
    expect(inputs).toMatchObject({
      namespace: 'team-a',
      errorRateMax: 0.01,
      p95MaxSeconds: 0.3,
      inconclusive: 'fail',
      autoRollback: true,
      metricsWindow: '1m',
    });
    const plan = analysisPlan(inputs, 'green');
    expect(plan.metrics?.checks.map((c) => c.name)).toEqual(['error-rate', 'p95-latency', 'queue']);
    expect(plan.metrics?.checks[2]!.query).toBe('max(queue_depth{app="shop",colour="green"})');
    expect(plan.http?.schedule).toEqual({ count: 5, intervalMs: 5000, failureLimit: 0 });
  });

  it('the built-in queries select the namespace by default; metrics-selector narrows them otherwise, none drops it', () => {
    const queryOf = (values: Record<string, string>) =>
      analysisPlan(read({ 'prometheus-url': 'http://p', 'error-rate-max': '0.01', ...values }), 'blue').metrics!
        .checks[0]!.query;
    expect(queryOf({})).toContain('{app="shop",colour="blue",namespace="team-a",code=~"5.."}');
    expect(queryOf({ namespace: 'prod' })).toContain('{app="shop",colour="blue",namespace="prod"}');
    expect(queryOf({ 'metrics-selector': 'namespace = "{{namespace}}" , cluster=~"eu-.*", job!="x,y"' })).toContain(
      '{app="shop",colour="blue",namespace="team-a",cluster=~"eu-.*",job!="x,y"}',
    );
    expect(queryOf({ 'metrics-selector': 'none' })).toContain('{app="shop",colour="blue"}');
    // Custom queries take {{namespace}} and {{app}} as well as {{colour}}.
    const custom = analysisPlan(
      read({
        'prometheus-url': 'http://p',
        queries: 'q: max(depth{namespace="{{namespace}}",app="{{app}}",colour="{{colour}}"}) < 1',
      }),
      'green',
    ).metrics!.checks[0]!.query;
    expect(custom).toBe('max(depth{namespace="team-a",app="shop",colour="green"})');
  });

  it('each provider: its connection, its built-in checks in its own language, its default selector', () => {
    const dd = read({ ...datadog, 'p95-max': '250ms', 'datadog-site': 'app.datadoghq.eu', 'metrics-window': '2m' });
    expect(dd.metricsProvider).toEqual({
      kind: 'datadog',
      base: new URL('https://api.datadoghq.eu/'),
      apiKey: 'k',
      applicationKey: 'a',
    });
    const ddPlan = analysisPlan(dd, 'green').metrics!;
    expect(ddPlan.source.provider).toBe('Datadog');
    expect(ddPlan.checks.map((c) => c.query)).toEqual([
      'sum:trace.http.request.errors{service:shop,colour:green,kube_namespace:team-a}.as_count().rollup(sum, 120) / sum:trace.http.request.hits{service:shop,colour:green,kube_namespace:team-a}.as_count().rollup(sum, 120)',
      'p95:trace.http.request{service:shop,colour:green,kube_namespace:team-a}.rollup(avg, 120)',
    ]);
    expect(read({ ...datadog, 'datadog-site': 'http://127.0.0.1:8126' }).metricsProvider).toMatchObject({
      base: new URL('http://127.0.0.1:8126/'),
    });
    expect(
      analysisPlan(read({ ...datadog, 'metrics-selector': 'env:prod, !kube_cluster_name:dev' }), 'blue').metrics!
        .checks[0]!.query,
    ).toContain('{service:shop,colour:blue,env:prod,!kube_cluster_name:dev}');

    const nr = read({ ...newrelic, 'newrelic-region': 'eu', 'metrics-selector': "environment = 'production'" });
    expect(nr.metricsProvider).toEqual({
      kind: 'newrelic',
      endpoint: new URL('https://api.eu.newrelic.com/graphql'),
      apiKey: 'NRAK-1',
      accountId: 42,
    });
    expect(analysisPlan(nr, 'blue').metrics!.checks.map((c) => c.query)).toEqual([
      "SELECT percentile(duration, 95) FROM Transaction WHERE appName = 'shop' AND colour = 'blue' AND (environment = 'production') SINCE 60 seconds ago",
    ]);

    const web = read({
      'metrics-provider': 'web',
      queries: 'errors: https://stats.example/api?app={{app}}&colour={{colour}} $.data.errorRate < 0.01',
      'web-headers': 'Authorization: Bearer web-secret-1',
    });
    expect(web.metricsProvider).toEqual({ kind: 'web', headers: { authorization: 'Bearer web-secret-1' } });
    expect(analysisPlan(web, 'green').metrics!.checks).toEqual([
      {
        name: 'errors',
        query: 'https://stats.example/api?app=shop&colour=green $.data.errorRate',
        comparison: '<',
        limit: 0.01,
      },
    ]);
  });

  it('masks every provider key, whichever provider is chosen', () => {
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      read({
        ...datadog,
        'datadog-api-key': 'dd-api-1',
        'datadog-application-key': 'dd-app-2',
        'newrelic-api-key': 'NRAK-3',
      });
    } finally {
      process.stdout.write = write;
    }
    const masks = lines.join('');
    for (const key of ['dd-api-1', 'dd-app-2', 'NRAK-3']) expect(masks).toContain(`::add-mask::${key}`);
  });

  it.each([
    [{ 'rollback-to': 'last-good' }, 'rollback-to', /is not previous, a revision number or a digest/],
    [{ 'rollback-to': '0' }, 'rollback-to', /is not previous/],
    [{ 'expect-digest': 'latest', 'http-url': 'http://x/' }, 'expect-digest', /is not a digest/],
    [{}, 'http-url', /no check is set, and rollback-to is empty/],
    [{ 'error-rate-max': '0.01' }, 'prometheus-url', /is empty while metric checks are set/],
    [{ 'prometheus-url': 'prom:9090', 'error-rate-max': '0.01' }, 'prometheus-url', /not an http\(s\) URL/],
    [{ 'prometheus-url': 'http://p', 'error-rate-max': 'low' }, 'error-rate-max', /'low' is not a number/],
    [{ 'prometheus-url': 'http://p', 'error-rate-max': '5' }, 'error-rate-max', /5 is more than 1/],
    [{ 'prometheus-url': 'http://p', 'p95-max': 'fast' }, 'p95-max', /'fast' is not a latency/],
    [
      { 'prometheus-url': 'http://p', queries: 'sum(rate(x[1m])) < 1' },
      'queries',
      /is not 'name: <query> <op> <number>'/,
    ],
    [
      { 'metrics-provider': 'dynatrace', 'error-rate-max': '0.1' },
      'metrics-provider',
      /'dynatrace' is not one of prometheus, datadog, newrelic, cloudwatch, web/,
    ],
    [
      { 'metrics-provider': 'datadog', 'error-rate-max': '0.1' },
      'datadog-api-key',
      /is empty while metrics-provider is datadog/,
    ],
    [
      { 'metrics-provider': 'datadog', 'datadog-api-key': 'k', 'error-rate-max': '0.1' },
      'datadog-application-key',
      /is empty while metrics-provider is datadog/,
    ],
    [{ ...datadog, 'datadog-site': 'datadoghq.moon' }, 'datadog-site', /'datadoghq.moon' is not a Datadog site/],
    [{ ...datadog, 'metrics-selector': 'namespace="x"' }, 'metrics-selector', /is not a Datadog tag/],
    [{ ...datadog, 'metrics-selector': 'service:shop' }, 'metrics-selector', /already select/],
    [{ ...datadog, queries: 'q: sum:x{a:b < 1' }, 'queries', /is not valid Datadog query syntax: '}' is missing/],
    [
      { 'metrics-provider': 'newrelic', 'newrelic-api-key': 'NRAK-1', 'p95-max': '1s' },
      'newrelic-account-id',
      /is empty/,
    ],
    [{ ...newrelic, 'newrelic-account-id': 'acme' }, 'newrelic-account-id', /'acme' is not an account id/],
    [{ ...newrelic, 'newrelic-region': 'apac' }, 'newrelic-region', /'apac' is not a New Relic region/],
    [
      { 'metrics-provider': 'web', 'error-rate-max': '0.1' },
      'error-rate-max',
      /the web provider has no built-in checks/,
    ],
    [{ 'metrics-provider': 'web', queries: 'q: $.rate < 1' }, 'queries', /is not '<URL> <JSONPath>'/],
    [
      { 'metrics-provider': 'web', queries: 'q: ftp://x/ $.rate < 1' },
      'queries',
      /'ftp:\/\/x\/' is not an http\(s\) URL/,
    ],
    [
      { 'metrics-provider': 'web', queries: 'q: https://x/ $.data[0 < 1' },
      'queries',
      /is not a JSONPath: '\]' is missing/,
    ],
    [{ 'metrics-provider': 'web', queries: 'q: https://x/ data.rate < 1' }, 'queries', /a JSONPath starts with \$/],
    [
      { 'metrics-provider': 'web', queries: 'q: https://x/ $.r < 1', 'web-headers': 'Bearer abc' },
      'web-headers',
      /is not a header line/,
    ],
    [{ 'prometheus-url': 'http://p', queries: 'a: x < 1\na: y < 2' }, 'queries', /the name 'a' is used twice/],
    [
      { 'prometheus-url': 'http://p', 'error-rate-max': '0.1', 'metrics-window': '1 minute' },
      'metrics-window',
      /is not a window/,
    ],
    [
      { 'prometheus-url': 'http://p', 'error-rate-max': '0.1', 'metrics-failure-limit': '5' },
      'metrics-failure-limit',
      /allows every one of the 5 checks to fail/,
    ],
    [
      { 'prometheus-url': 'http://p', 'error-rate-max': '0.1', 'metrics-selector': 'namespace=prod' },
      'metrics-selector',
      /'namespace=prod' is not a label matcher/,
    ],
    [
      { 'prometheus-url': 'http://p', 'error-rate-max': '0.1', 'metrics-selector': 'app="shop"' },
      'metrics-selector',
      /matches on 'app', which the built-in queries already select/,
    ],
    [{ 'http-url': 'http://x/', inconclusive: 'maybe' }, 'inconclusive', /'maybe' is not one of fail, pass/],
    [{ 'http-url': 'http://x/', 'auto-rollback': 'sure' }, 'auto-rollback', /'sure' is not a boolean/],
    [{ 'http-url': 'http://x/', 'lock-timeout': 'forever' }, 'lock-timeout', /'forever' is not a duration/],
    [{ 'http-url': 'http://x/', app: 'Shop_API' }, 'app', /is not a DNS label/],
    [{ 'http-url': 'http://x/', kubeconfig: 'not: [a kubeconfig' }, 'kubeconfig', /./],
  ])('%j is refused naming %s', (values, input, message) => {
    const found = problems(values);
    expect(found.find((p) => p.input === input)?.problem).toMatch(message);
    expect(found.find((p) => p.input === input)?.fix.length).toBeGreaterThan(5);
  });
});

describe('timeline', () => {
  it("draws each check's measurements and the rollback as a Mermaid Gantt chart", () => {
    const at = '2026-11-27T12:00:00.000Z';
    const chart = timeline(
      {
        verdict: 'failed',
        startedAt: at,
        endedAt: at,
        checks: [
          {
            name: 'error-rate',
            what: 'q <= 0.05',
            outcome: {
              passed: false,
              verdict: 'failed',
              failures: 1,
              inconclusive: 0,
              awaited: 1,
              measurements: [
                {
                  at: '2026-11-27T11:59:59.000Z',
                  ok: false,
                  inconclusive: true,
                  awaitingData: true,
                  detail: 'no data',
                  ms: 2,
                },
                { at, ok: true, detail: '0', ms: 3 },
                { at: '2026-11-27T12:00:01.000Z', ok: false, detail: '0.3', ms: 3 },
              ],
            },
          },
        ],
      },
      {
        noop: false,
        liveColour: 'blue',
        liveDigest: D,
        revision: 3,
        how: 'switch',
        switchedAt: Date.parse('2026-11-27T12:00:02Z'),
      },
      Date.parse('2026-11-27T11:59:59Z'),
      '2026-11-27T11:59:30.000Z',
    );
    expect(chart.split('\n')).toEqual(
      expect.arrayContaining([
        '```mermaid',
        'gantt',
        '  section deploy',
        '  switched live :milestone, 11:59:30, 0s',
        '  section error-rate',
        '  no data yet 1 :active, 11:59:59, 12:00:00',
        '  ok 1 :done, 12:00:00, 12:00:01',
        '  failed 2 :crit, 12:00:01, 12:00:02',
        '  switched back to blue :milestone, 12:00:02, 0s',
        '  started :milestone, 11:59:59, 0s',
      ]),
    );
  });
});

describe('metric provider connections', () => {
  it('a managed Prometheus: a bearer token and extra headers on every query, credentials masked', () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
    let inputs;
    try {
      inputs = read({
        'prometheus-url': 'https://prometheus.grafana.net/api/prom',
        queries: 'up: count(up) >= 1',
        'prometheus-token': 'glc_secret_token_1',
        'prometheus-headers': 'X-Scope-OrgID: team-a\nX-Api-Key: key-value-2',
      });
    } finally {
      process.stdout.write = write;
    }
    expect(inputs.metricsProvider).toEqual({
      kind: 'prometheus',
      url: 'https://prometheus.grafana.net/api/prom',
      headers: { authorization: 'Bearer glc_secret_token_1', 'x-scope-orgid': 'team-a', 'x-api-key': 'key-value-2' },
    });
    expect(analysisPlan(inputs, 'blue').metrics?.source.provider).toBe('Prometheus');
    const masks = lines.join('');
    expect(masks).toContain('::add-mask::glc_secret_token_1');
    expect(masks).toContain('::add-mask::key-value-2');
    expect(masks).not.toContain('::add-mask::team-a');
  });

  it('cloudwatch: the region from the input, else the environment configure-aws-credentials leaves', () => {
    const query = {
      'metrics-provider': 'cloudwatch',
      queries: `errors: SELECT SUM(Errors) FROM SCHEMA("Shop", Colour) WHERE Colour = '{{colour}}' < 5`,
    };
    const withEnv = (env: NodeJS.ProcessEnv, values: Record<string, string> = {}) =>
      readVerifyRollbackInputs(
        new InputReader((name) => ({ kubeconfig, app: 'shop', ...query, ...values })[name]),
        '/nonexistent',
        { HOME: '/nonexistent', ...env },
      );
    expect(withEnv({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-east-1' }).metricsProvider).toEqual({
      kind: 'cloudwatch',
      region: 'eu-west-1',
    });
    expect(withEnv({ AWS_DEFAULT_REGION: 'us-east-1' }).metricsProvider).toMatchObject({ region: 'us-east-1' });
    const given = withEnv(
      { AWS_REGION: 'eu-west-1' },
      { 'cloudwatch-region': 'us-gov-west-1', 'cloudwatch-endpoint': 'https://monitoring.vpce.example' },
    );
    expect(given.metricsProvider).toEqual({
      kind: 'cloudwatch',
      region: 'us-gov-west-1',
      endpoint: new URL('https://monitoring.vpce.example'),
    });
    expect(analysisPlan(given, 'green').metrics!.checks[0]!.query).toBe(
      `SELECT SUM(Errors) FROM SCHEMA("Shop", Colour) WHERE Colour = 'green'`,
    );
    expect(analysisPlan(given, 'green').metrics!.source.provider).toBe('CloudWatch');
    expect(inputProblems(() => withEnv({}))).toEqual([
      expect.objectContaining({
        input: 'cloudwatch-region',
        problem: expect.stringContaining('neither AWS_REGION nor AWS_DEFAULT_REGION'),
      }),
    ]);
    expect(
      inputProblems(() => withEnv({}, { 'cloudwatch-region': 'us-east-1', 'cloudwatch-endpoint': 'monitoring' })),
    ).toEqual([expect.objectContaining({ input: 'cloudwatch-endpoint' })]);
  });

  it('a credential header is masked whole and its credential alone (after the scheme)', () => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      read({
        'metrics-provider': 'web',
        queries: 'errors: https://stats.example/api $.errorRate < 0.01',
        'web-headers': 'Authorization: Bearer web-secret-2\nX-Tenant: team-b',
      });
    } finally {
      process.stdout.write = write;
    }
    const masks = lines.join('');
    expect(masks).toContain('::add-mask::Bearer web-secret-2');
    expect(masks).toContain('::add-mask::web-secret-2');
    expect(masks).not.toContain('::add-mask::team-b');
  });

  it.each([
    [{ 'prometheus-headers': 'no colon here' }, 'prometheus-headers'],
    [{ 'prometheus-headers': 'X Bad Name: v' }, 'prometheus-headers'],
    [{ 'prometheus-headers': 'X-Empty:' }, 'prometheus-headers'],
    [{ 'prometheus-token': 't', 'prometheus-headers': 'Authorization: Basic eA==' }, 'prometheus-token'],
  ])('refuses Prometheus credentials it cannot send: %j', (values, input) => {
    expect(problems({ 'prometheus-url': 'http://prom:9090', queries: 'up: count(up) >= 1', ...values })).toEqual([
      expect.objectContaining({ input }),
    ]);
  });
});
