import { httpFailure } from '@deploy-suite/action-kit';
import type { MetricSource, QueryResult } from '../metric-check.js';
import { suiteHttpHandler } from './aws-http-handler.js';

/** An AWS region name (us-east-1, eu-central-1, us-gov-west-1, cn-north-1). */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;

/** What GetMetricData answers, as far as a check reads it. */
export interface MetricDataOutput {
  MetricDataResults?: {
    Id?: string;
    Label?: string;
    Values?: number[];
    StatusCode?: string;
  }[];
  Messages?: { Code?: string; Value?: string }[];
}

/**
 * CloudWatch's GetMetricData through the AWS SDK's own client (its SigV4 signer and its credential chain:
 * the environment as aws-actions/configure-aws-credentials leaves it, a web identity token file for OIDC,
 * profiles, or the instance's role on a self-hosted runner), sent over the suite's HTTP path. A query is a
 * metric math expression or a Metrics Insights SELECT, at a period of the window (rounded up to whole
 * minutes, CloudWatch's own granularity); its value is the most recent datapoint.
 */
export function cloudWatchSource(options: {
  region: string;
  endpoint?: URL;
  windowSeconds: number;
  now?: () => number;
}): MetricSource {
  const provider = 'CloudWatch';
  const period = Math.max(60, Math.ceil(options.windowSeconds / 60) * 60);
  // One client for the run: the SDK resolves (and refreshes) the credentials once, not per query.
  let client: Promise<{ send(input: unknown): Promise<MetricDataOutput> }> | undefined;
  const connect = (timeoutMs: number) =>
    (client ??= loadSdk().then(({ CloudWatchClient, GetMetricDataCommand }) => {
      const sdk = new CloudWatchClient({
        region: options.region,
        ...(options.endpoint ? { endpoint: options.endpoint.href } : {}),
        // The analysis measures again at its own interval: an attempt that fails is one inconclusive measurement.
        maxAttempts: 1,
        requestHandler: suiteHttpHandler(timeoutMs),
      });
      return {
        send: (input: unknown) =>
          sdk.send(new GetMetricDataCommand(input as ConstructorParameters<typeof GetMetricDataCommand>[0])),
      };
    }));
  return {
    provider,
    async query(query, { timeoutMs }): Promise<QueryResult> {
      const end = options.now?.() ?? Date.now();
      try {
        const output = await (
          await connect(timeoutMs)
        ).send({
          MetricDataQueries: [{ Id: 'check', Expression: query, Period: period, ReturnData: true }],
          // Two periods back, so one whole period is in it whatever the alignment; the latest point wins.
          StartTime: new Date(end - 2 * period * 1000),
          EndTime: new Date(end),
          ScanBy: 'TimestampDescending',
        });
        return readMetricData(output);
      } catch (error) {
        return cloudWatchFailure(error);
      }
    },
  };
}

type CloudWatchSdk = typeof import('@aws-sdk/client-cloudwatch');

/**
 * The SDK, loaded on first use (its chunk costs the runs that read CloudWatch only). Bundled, the CommonJS
 * package comes back as Node gives CommonJS to an ES module: its exports under default.
 */
async function loadSdk(): Promise<CloudWatchSdk> {
  const loaded = (await import('@aws-sdk/client-cloudwatch')) as CloudWatchSdk & { default?: CloudWatchSdk };
  return typeof loaded.CloudWatchClient === 'function' ? loaded : loaded.default!;
}

/** The check's value from GetMetricData's answer: one series, its most recent point (results come newest first). */
export function readMetricData(output: MetricDataOutput): QueryResult {
  const results = output.MetricDataResults ?? [];
  const forbidden = results.find((r) => r.StatusCode === 'Forbidden');
  if (forbidden)
    return {
      kind: 'unreachable',
      error: `CloudWatch refused the query's data (Forbidden${messages(output)}): the role needs cloudwatch:GetMetricData`,
    };
  if (results.some((r) => r.StatusCode === 'InternalError'))
    return { kind: 'unreachable', error: `CloudWatch could not answer (InternalError${messages(output)})` };
  const series = results.filter((r) => (r.Values?.length ?? 0) > 0);
  if (series.length === 0) return { kind: 'no-data' };
  if (series.length > 1)
    return {
      kind: 'query-error',
      error: `${series.length} series (${series.map((s) => s.Label ?? s.Id ?? '?').join('; ')}); aggregate the query to one (SUM(SEARCH(…)), or a Metrics Insights query without GROUP BY)`,
    };
  const value = series[0]!.Values![0]!;
  return Number.isFinite(value) ? { kind: 'value', value } : { kind: 'no-data' };
}

function messages(output: MetricDataOutput): string {
  const text = (output.Messages ?? []).map((m) => [m.Code, m.Value].filter(Boolean).join(': ')).join('; ');
  return text ? `: ${text}` : '';
}

const REFUSED =
  /^(AccessDenied|AccessDeniedException|UnrecognizedClientException|InvalidClientTokenId|SignatureDoesNotMatch|ExpiredToken|ExpiredTokenException|IncompleteSignature|MissingAuthenticationToken)$/;

/** What the SDK threw, as the analysis counts it: credentials and throttling are the provider unreachable. */
export function cloudWatchFailure(error: unknown): QueryResult {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const message = (e.message ?? String(error)).split('\n')[0]!.slice(0, 300);
  if (name === 'CredentialsProviderError')
    return {
      kind: 'unreachable',
      error: `no AWS credentials (${message}): run aws-actions/configure-aws-credentials before this step, or give AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in its env`,
    };
  if (status === 401 || status === 403 || REFUSED.test(name))
    return {
      kind: 'unreachable',
      error: `HTTP ${status ?? '?'}: CloudWatch refused the query's credentials (${name}: ${message}; check the AWS credentials in the environment and cloudwatch-region)`,
    };
  if (status === 429 || /Throttl|LimitExceeded|TooManyRequests/.test(name))
    return { kind: 'unreachable', error: `HTTP ${status ?? 429}: CloudWatch is throttling the queries (${name})` };
  if (status !== undefined && status >= 500)
    return { kind: 'unreachable', error: `HTTP ${status}: ${name}: ${message}` };
  if (status !== undefined && status >= 400) return { kind: 'query-error', error: `${name}: ${message}` };
  return { kind: 'unreachable', error: httpFailure(error) };
}
