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
      /is not 'name: <PromQL> <op> <number>'/,
    ],
    [{ 'prometheus-url': 'http://p', queries: 'a: x < 1\na: y < 2' }, 'queries', /the name 'a' is used twice/],
    [
      { 'prometheus-url': 'http://p', 'error-rate-max': '0.1', 'metrics-window': '1 minute' },
      'metrics-window',
      /is not a PromQL range/,
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
    expect(inputs.prometheusHeaders).toEqual({
      authorization: 'Bearer glc_secret_token_1',
      'x-scope-orgid': 'team-a',
      'x-api-key': 'key-value-2',
    });
    expect(analysisPlan(inputs, 'blue').metrics?.headers).toEqual(inputs.prometheusHeaders);
    const masks = lines.join('');
    expect(masks).toContain('::add-mask::glc_secret_token_1');
    expect(masks).toContain('::add-mask::key-value-2');
    expect(masks).not.toContain('::add-mask::team-a');
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
