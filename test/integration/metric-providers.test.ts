// verify-rollback on the metric providers beyond Prometheus (Datadog, New Relic, a web endpoint), bundled
// and run as the runner runs it, against the real control plane and a local stand-in answering each
// provider's documented request shapes (test/support/metric-providers.ts). The verdicts are those of
// the Prometheus tests: healthy passes, breaching fails and rolls back, a provider that refuses the keys
// is inconclusive and says which inputs to check. No key shows in any log.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEvent, runAction } from '../support/action-runner.js';
import { startProviderStandIn, type ProviderStandIn } from '../support/metric-providers.js';
import { useNamespace } from '../support/namespace.js';

const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const namespace = `providers-${randomBytes(3).toString('hex')}`;
const app = 'shop';
const image = (n: number) => `127.0.0.1:5000/shop/api@sha256:${n.toString(16).padStart(64, 'c')}`;
const keys = {
  datadogApi: `dd${randomBytes(16).toString('hex')}`,
  datadogApplication: `ddapp${randomBytes(18).toString('hex')}`,
  newRelic: `NRAK-${randomBytes(13).toString('hex').toUpperCase()}`,
  web: `web_${randomBytes(12).toString('hex')}`,
  // As aws-actions/configure-aws-credentials leaves them after its OIDC exchange: a session's three parts.
  aws: {
    accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(48).toString('base64')}`,
    region: 'eu-central-1',
    webIdentity: {
      token: `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
      roleArn: 'arn:aws:iam::123456789012:role/shop-analysis',
    },
  },
};
const awsEnv = (secret = keys.aws.secretAccessKey) => ({
  AWS_ACCESS_KEY_ID: keys.aws.accessKeyId,
  AWS_SECRET_ACCESS_KEY: secret,
  AWS_SESSION_TOKEN: keys.aws.sessionToken,
  AWS_REGION: keys.aws.region,
  AWS_DEFAULT_REGION: keys.aws.region,
  // Nothing here answers the instance metadata address: the chain must not wait on it.
  AWS_EC2_METADATA_DISABLED: 'true',
});
let standIn: ProviderStandIn;

beforeAll(async () => {
  standIn = await startProviderStandIn(keys);
});
afterAll(() => standIn.close());

const schedule = { 'metrics-checks': '2', 'metrics-interval': '200ms', 'metrics-window': '2m' };
const verify = async (inputs: Record<string, string>, env: Record<string, string> = {}) =>
  runAction(
    'verify-rollback',
    { kubeconfig, namespace, app, ...schedule, ...inputs },
    await loadEvent('workflow-dispatch'),
    env,
  );
const datadog = () => ({
  'metrics-provider': 'datadog',
  'datadog-site': standIn.url,
  'datadog-api-key': keys.datadogApi,
  'datadog-application-key': keys.datadogApplication,
});
const noKeyShown = (shown: string) => {
  for (const key of [keys.datadogApi, keys.datadogApplication, keys.newRelic, keys.web])
    expect(shown).not.toContain(key);
  expect(shown).not.toContain(keys.aws.secretAccessKey);
  expect(shown).not.toContain(keys.aws.sessionToken);
};

describe('verify-rollback on Datadog, New Relic, CloudWatch and a web endpoint', () => {
  useNamespace(namespace);
  beforeAll(async () => {
    for (const n of [1, 2]) {
      const run = await runAction(
        'bluegreen-deploy',
        { kubeconfig, namespace, app, replicas: '1', image: image(n) },
        await loadEvent('push-default-branch'),
      );
      expect(run.exitCode).toBe(0);
    }
  });

  it('Datadog: the built-in checks on trace metrics pass for a healthy colour, keys masked', async () => {
    standIn.seen.length = 0;
    standIn.answer = (query) => ({ value: query.startsWith('p95:') ? 0.08 : 0.002 });
    const run = await verify({ ...datadog(), 'error-rate-max': '0.01', 'p95-max': '250ms' });
    expect(run.log).not.toMatch(/::error/);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ verdict: 'passed', 'rolled-back': 'false' });
    const colour = run.outputs['live-colour'];
    const queries = standIn.seen.filter((s) => s.provider === 'datadog').map((s) => s.query);
    expect(queries).toContain(
      `sum:trace.http.request.errors{service:${app},colour:${colour},kube_namespace:${namespace}}.as_count().rollup(sum, 120) / sum:trace.http.request.hits{service:${app},colour:${colour},kube_namespace:${namespace}}.as_count().rollup(sum, 120)`,
    );
    expect(queries.filter((q) => q.startsWith('p95:'))).toHaveLength(2);
    const sent = new URLSearchParams(standIn.seen.at(-1)!.search);
    expect(Number(sent.get('to')) - Number(sent.get('from'))).toBe(120);
    expect(run.log).toContain(`::add-mask::${keys.datadogApi}`);
    expect(run.log).toContain(`::add-mask::${keys.datadogApplication}`);
    expect(run.summary).toContain('Datadog: <code>');
    noKeyShown(run.shown);
  });

  it('New Relic: a custom NRQL check with {{colour}}; a refused key is inconclusive and names the inputs', async () => {
    standIn.answer = () => ({ value: 12 });
    const inputs = {
      'metrics-provider': 'newrelic',
      'newrelic-region': `${standIn.url}/graphql`,
      'newrelic-account-id': '3141592',
      queries: "queue: SELECT max(queueDepth) FROM Metric WHERE colour = '{{colour}}' SINCE 1 minute ago < 100",
    };
    const good = await verify({ ...inputs, 'newrelic-api-key': keys.newRelic });
    expect(good.exitCode).toBe(0);
    expect(good.outputs.verdict).toBe('passed');
    const body = JSON.parse(standIn.seen.at(-1)!.body) as { variables: { accountId: number; nrql: string } };
    expect(body.variables).toEqual({
      accountId: 3141592,
      nrql: `SELECT max(queueDepth) FROM Metric WHERE colour = '${good.outputs['live-colour']}' SINCE 1 minute ago`,
    });
    noKeyShown(good.shown);

    const refused = await verify({ ...inputs, 'newrelic-api-key': 'NRAK-NOTTHEKEY', 'auto-rollback': 'false' });
    expect(refused.exitCode).toBe(1);
    expect(refused.outputs).toMatchObject({ verdict: 'inconclusive', 'rolled-back': 'false' });
    expect(refused.log).toContain(
      "queue 1/2: inconclusive, New Relic unreachable: HTTP 401: New Relic refused the query's credentials (check newrelic-api-key (a user key) and newrelic-region)",
    );
  });

  it('web: a JSONPath into any JSON answer; the endpoint down is inconclusive, kept with inconclusive: pass', async () => {
    const inputs = {
      'metrics-provider': 'web',
      'web-headers': `Authorization: Bearer ${keys.web}`,
      queries: `errors: ${standIn.url}/web/stats?app={{app}}&colour={{colour}} $.data.errorRate <= 0.01`,
    };
    standIn.answer = () => ({ value: 0.001 });
    const good = await verify(inputs);
    expect(good.exitCode).toBe(0);
    expect(standIn.seen.at(-1)!.query).toBe(`/web/stats?app=${app}&colour=${good.outputs['live-colour']}`);
    expect(good.log).toContain(`::add-mask::${keys.web}`);
    noKeyShown(good.shown);

    standIn.answer = () => 'down';
    const down = await verify({ ...inputs, inconclusive: 'pass' });
    expect(down.exitCode).toBe(0);
    expect(down.outputs).toMatchObject({ verdict: 'inconclusive', 'rolled-back': 'false' });
    expect(down.log).toMatch(/errors 1\/2: inconclusive, the web endpoint unreachable: HTTP 503/);
  });

  it('CloudWatch: GetMetricData signed with the session from the environment; healthy, breaching, refused, empty', async () => {
    const inputs = {
      'metrics-provider': 'cloudwatch',
      'cloudwatch-endpoint': standIn.url,
      queries: `errors: SELECT SUM(Errors) FROM SCHEMA("Shop", Colour) WHERE Colour = '{{colour}}' <= 5`,
      'auto-rollback': 'false',
    };
    standIn.seen.length = 0;
    standIn.answer = () => ({ value: 2 });
    const good = await verify(inputs, awsEnv());
    expect(good.log).not.toMatch(/::error/);
    expect(good.exitCode).toBe(0);
    expect(good.outputs.verdict).toBe('passed');
    const sent = standIn.seen.filter((s) => s.provider === 'cloudwatch');
    expect(sent).toHaveLength(2);
    // The stand-in recomputed each signature (scope eu-central-1/monitoring) and the session token went along.
    expect(sent[0]!.headers['x-amz-security-token']).toBe(keys.aws.sessionToken);
    expect(String(sent[0]!.headers.authorization)).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${keys.aws.accessKeyId}/\\d{8}/eu-central-1/monitoring/aws4_request, `),
    );
    const request = JSON.parse(sent[0]!.body) as {
      MetricDataQueries: { Expression: string; Period: number }[];
      StartTime: number;
      EndTime: number;
      ScanBy: string;
    };
    expect(request.MetricDataQueries[0]).toMatchObject({
      Expression: `SELECT SUM(Errors) FROM SCHEMA("Shop", Colour) WHERE Colour = '${good.outputs['live-colour']}'`,
      Period: 120,
    });
    expect(request.EndTime - request.StartTime).toBe(240);
    expect(request.ScanBy).toBe('TimestampDescending');
    expect(good.log).toContain(`::add-mask::${keys.aws.secretAccessKey}`);
    expect(good.summary).toContain('CloudWatch: <code>');
    noKeyShown(good.shown);

    standIn.answer = () => ({ value: 40 });
    const breaching = await verify(inputs, awsEnv());
    expect(breaching.exitCode).toBe(1);
    expect(breaching.outputs).toMatchObject({ verdict: 'failed', 'rolled-back': 'false' });
    expect(breaching.log).toMatch(/errors 1\/2: FAILED, 40 not <= 5/);

    // A secret that is not the session's: the signature does not match, the provider is unreachable.
    const refused = await verify(inputs, awsEnv(randomBytes(30).toString('base64')));
    expect(refused.exitCode).toBe(1);
    expect(refused.outputs.verdict).toBe('inconclusive');
    expect(refused.log).toContain(
      "errors 1/2: inconclusive, CloudWatch unreachable: HTTP 403: CloudWatch refused the query's credentials (SignatureDoesNotMatch",
    );

    standIn.answer = () => 'rate-limited';
    const throttled = await verify({ ...inputs, inconclusive: 'pass' }, awsEnv());
    expect(throttled.exitCode).toBe(0);
    expect(throttled.log).toMatch(
      /errors 1\/2: inconclusive, CloudWatch unreachable: HTTP 400: CloudWatch is throttling/,
    );

    standIn.answer = () => 'bad-query';
    const bad = await verify(inputs, awsEnv());
    expect(bad.exitCode).toBe(1);
    expect(bad.log).toMatch(
      /errors 1\/2: FAILED, query error: InvalidParameterValue(Exception)?: Syntax error in expression check/,
    );

    // No credentials at all: inconclusive, and the log says which step gives them.
    standIn.answer = () => ({ value: 2 });
    const none = await verify(
      { ...inputs, 'cloudwatch-region': 'eu-central-1' },
      {
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      },
    );
    expect(none.exitCode).toBe(1);
    expect(none.outputs.verdict).toBe('inconclusive');
    expect(none.log).toContain('run aws-actions/configure-aws-credentials before this step');
  });

  it("CloudWatch with OIDC: the SDK's chain trades a web identity token file for the role's session", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'oidc-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, keys.aws.webIdentity.token);
    standIn.seen.length = 0;
    standIn.answer = () => ({ value: 1 });
    const env = {
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ROLE_ARN: keys.aws.webIdentity.roleArn,
      AWS_ROLE_SESSION_NAME: 'verify-rollback',
      AWS_REGION: keys.aws.region,
      AWS_EC2_METADATA_DISABLED: 'true',
      // STS of the stand-in (the SDK's configured-endpoint variable); CloudWatch's is the input.
      AWS_ENDPOINT_URL_STS: standIn.url,
    };
    const run = await verify(
      {
        'metrics-provider': 'cloudwatch',
        'cloudwatch-endpoint': standIn.url,
        queries: `errors: SELECT SUM(Errors) FROM SCHEMA("Shop", Colour) WHERE Colour = '{{colour}}' <= 5`,
        'auto-rollback': 'false',
      },
      env,
    );
    expect(run.log).not.toMatch(/::error/);
    expect(run.outputs.verdict).toBe('passed');
    // One exchange for the run, then each query signed with the session it gave.
    expect(standIn.seen.map((s) => s.provider)).toEqual(['sts', 'cloudwatch', 'cloudwatch']);
    expect(new URLSearchParams(standIn.seen[0]!.body).get('RoleSessionName')).toBe('verify-rollback');
    expect(standIn.seen[1]!.headers['x-amz-security-token']).toBe(keys.aws.sessionToken);
    noKeyShown(run.shown);
    expect(run.shown).not.toContain(keys.aws.webIdentity.token);
  });

  it('Datadog: a breaching colour fails the analysis and rolls back to the previous release', async () => {
    standIn.answer = (query) => ({ value: query.startsWith('p95:') ? 0.08 : 0.3 });
    const run = await verify({ ...datadog(), 'error-rate-max': '0.01', 'p95-max': '250ms' });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({
      verdict: 'failed',
      'rolled-back': 'true',
      'live-digest': image(1).split('@')[1],
    });
    expect(run.log).toMatch(/error-rate 1\/2: FAILED, 0.3 not <= 0.01/);
    noKeyShown(run.shown);
  });
});
