// A local stand-in of the metric providers beyond Prometheus, answering the request shapes their docs
// give: Datadog's metrics query API (GET /api/v1/query, DD-API-KEY and DD-APPLICATION-KEY, from/to in
// seconds), New Relic's NerdGraph (POST /graphql, API-Key, the NRQL in variables.nrql), CloudWatch's
// GetMetricData (AWS JSON 1.0, X-Amz-Target, its SigV4 signature recomputed with the SDK's own signer
// from the headers it names), STS's AssumeRoleWithWebIdentity (the OIDC exchange of the SDK's credential
// chain: a web identity token file and a role, as EKS and self-hosted runners have them) and any JSON
// endpoint (/web/…). What a query answers is the test's: a value, no data, several series, an error of
// the query, or the provider down. Every request is recorded, headers included, for the tests to read.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

export type ProviderAnswer =
  { value: number | null } | 'empty' | 'two-series' | 'bad-query' | 'down' | 'rate-limited' | { json: unknown };

export interface SeenRequest {
  provider: 'datadog' | 'newrelic' | 'cloudwatch' | 'sts' | 'web';
  method: string;
  path: string;
  /** The URL's query string (`?from=…&to=…&query=…`). */
  search: string;
  query: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ProviderStandIn {
  url: string;
  seen: SeenRequest[];
  /** What a query answers (by its text: the Datadog query, the NRQL, the web path). Default: 'empty'. */
  answer: (query: string) => ProviderAnswer;
  keys: {
    datadogApi: string;
    datadogApplication: string;
    newRelic: string;
    web: string;
    aws?: {
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
      region: string;
      /** The OIDC token STS takes for the role (the session above is what it hands back). */
      webIdentity?: { token: string; roleArn: string };
    };
  };
  close(): Promise<void>;
}

export async function startProviderStandIn(keys: ProviderStandIn['keys']): Promise<ProviderStandIn> {
  const standIn: ProviderStandIn = { url: '', seen: [], answer: () => 'empty', keys, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const body = Buffer.concat(chunks).toString('utf8');
      const send = (status: number, json: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
      const provider = url.pathname.startsWith('/api/v1/')
        ? 'datadog'
        : url.pathname === '/graphql'
          ? 'newrelic'
          : req.headers['x-amz-target']
            ? 'cloudwatch'
            : /(^|&)Action=AssumeRoleWithWebIdentity(&|$)/.test(body)
              ? 'sts'
              : 'web';
      let query = provider === 'web' ? url.pathname + url.search : (url.searchParams.get('query') ?? '');
      if (provider === 'newrelic' || provider === 'cloudwatch') {
        try {
          const parsed = JSON.parse(body) as {
            variables?: { nrql?: string };
            MetricDataQueries?: { Expression?: string }[];
          };
          query = parsed.variables?.nrql ?? parsed.MetricDataQueries?.[0]?.Expression ?? '';
        } catch {
          query = '';
        }
      }
      standIn.seen.push({
        provider,
        method: req.method ?? '',
        path: url.pathname,
        search: url.search,
        query,
        headers: req.headers,
        body,
      });
      if (provider === 'datadog') return datadog(req, url, standIn, send);
      if (provider === 'newrelic') return newRelic(req, body, standIn, send);
      if (provider === 'cloudwatch') return void cloudWatch(req, url, body, standIn, res);
      if (provider === 'sts') return sts(body, standIn, res);
      if (req.headers.authorization !== `Bearer ${keys.web}`) return send(401, { message: 'unauthorized' });
      const answer = standIn.answer(query);
      if (answer === 'down') return send(503, { message: 'unavailable' });
      if (answer === 'rate-limited') return send(429, { message: 'slow down' });
      if (answer === 'bad-query') return send(404, { message: `no such statistic ${url.pathname}` });
      if (typeof answer === 'object' && 'json' in answer) return send(200, answer.json);
      if (answer === 'empty') return send(200, { data: {} });
      if (answer === 'two-series') return send(200, { data: { errorRate: [0.1, 0.2] } });
      return send(200, { data: { errorRate: answer.value } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  standIn.close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return standIn;
}

type Send = (status: number, json: unknown) => void;

function datadog(req: IncomingMessage, url: URL, standIn: ProviderStandIn, send: Send): void {
  if (
    req.headers['dd-api-key'] !== standIn.keys.datadogApi ||
    req.headers['dd-application-key'] !== standIn.keys.datadogApplication
  )
    return send(403, { errors: ['Forbidden'] });
  if (req.method !== 'GET' || url.pathname !== '/api/v1/query') return send(404, { errors: ['Not found'] });
  const from = Number(url.searchParams.get('from'));
  const to = Number(url.searchParams.get('to'));
  const query = url.searchParams.get('query') ?? '';
  if (!Number.isInteger(from) || !Number.isInteger(to) || from >= to || !query)
    return send(400, { errors: ["The value provided for parameter 'from' is invalid"] });
  const answer = standIn.answer(query);
  if (answer === 'down') return send(500, { errors: ['Internal Server Error'] });
  if (answer === 'rate-limited') return send(429, { errors: ['Rate limit of 1600 requests in 3600 seconds reached'] });
  if (answer === 'bad-query') return send(400, { errors: [`Error parsing query: \n unable to parse ${query}`] });
  const series = (scope: string, value: number | null) => ({
    metric: query.replace(/^\w+:/, '').replace(/\{.*$/, ''),
    display_name: query,
    expression: query,
    scope,
    interval: to - from,
    length: 2,
    start: from * 1000,
    end: to * 1000,
    // The last bucket still filling: null, as Datadog answers it.
    pointlist: [
      [from * 1000, value],
      [to * 1000, null],
    ],
    aggr: 'sum',
  });
  const list =
    answer === 'empty'
      ? []
      : answer === 'two-series'
        ? [series('colour:blue', 0.1), series('colour:green', 0.2)]
        : typeof answer === 'object' && 'json' in answer
          ? (answer.json as unknown[])
          : [series('*', answer.value)];
  send(200, {
    status: 'ok',
    res_type: 'time_series',
    resp_version: 1,
    query,
    from_date: from * 1000,
    to_date: to * 1000,
    series: list,
    values: [],
    times: [],
    message: '',
    group_by: [],
  });
}

function newRelic(req: IncomingMessage, body: string, standIn: ProviderStandIn, send: Send): void {
  // As NerdGraph answers a bad key (newrelic-client-go #603): 401 and an error coded BAD_API_KEY.
  if (req.headers['api-key'] !== standIn.keys.newRelic)
    return send(401, {
      errors: [{ extensions: { error_code: 'BAD_API_KEY' }, message: 'Bad API Key or no API Key provided' }],
    });
  let request: { query?: string; variables?: { accountId?: number; nrql?: string } };
  try {
    request = JSON.parse(body);
  } catch {
    return send(400, { errors: [{ message: 'the body is not JSON' }] });
  }
  if (
    req.method !== 'POST' ||
    !request.query?.includes('nrql(query: $nrql)') ||
    typeof request.variables?.accountId !== 'number'
  )
    return send(200, { errors: [{ message: 'Variable "$accountId" of required type "Int!" was not provided.' }] });
  const answer = standIn.answer(request.variables.nrql ?? '');
  if (answer === 'down') return send(502, { errors: [{ message: 'Bad gateway' }] });
  if (answer === 'rate-limited') return send(429, { errors: [{ message: 'Too many requests' }] });
  if (answer === 'bad-query')
    return send(200, {
      data: { actor: { account: { nrql: null } } },
      errors: [{ message: `NRQL Syntax Error: Error at line 1 position 8, unexpected 'FORM'` }],
    });
  const nrql = request.variables.nrql ?? '';
  const key = /percentile\(duration, 95\)/.test(nrql) ? 'percentile.duration' : 'result';
  const row = (value: number | null) => (key === 'percentile.duration' ? { [key]: { '95': value } } : { [key]: value });
  const results =
    answer === 'empty'
      ? []
      : answer === 'two-series'
        ? [
            { facet: 'blue', ...row(0.1) },
            { facet: 'green', ...row(0.2) },
          ]
        : typeof answer === 'object' && 'json' in answer
          ? (answer.json as unknown[])
          : [row(answer.value)];
  send(200, { data: { actor: { account: { nrql: { results } } } } });
}

/** node:crypto as the signer's hash (its Checksum: an HMAC when given a secret). */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly secret?: string | Uint8Array;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    this.hash = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
}

const CLOUDWATCH_TARGET = 'GraniteServiceVersion20100801.GetMetricData';

/**
 * CloudWatch's GetMetricData as the SDK speaks it (AWS JSON 1.0, query-compatible errors): the signature
 * is recomputed over the headers the request says it signed, with the key the test gave, and must match.
 */
async function cloudWatch(
  req: IncomingMessage,
  url: URL,
  body: string,
  standIn: ProviderStandIn,
  res: import('node:http').ServerResponse,
): Promise<void> {
  const reply = (status: number, json: unknown, queryError?: string): void =>
    void res
      .writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': '8a1c3a53-5f3e-4f4e-9d2a-stand-in',
        ...(queryError ? { 'x-amzn-query-error': queryError } : {}),
      })
      .end(JSON.stringify(json));
  const fail = (status: number, code: string, message: string): void =>
    reply(status, { __type: `com.amazonaws.cloudwatch#${code}`, message }, `${code};Sender`);
  const aws = standIn.keys.aws;
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      String(req.headers.authorization ?? ''),
    );
  if (!aws || !auth) return fail(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
  const [, keyId, , region, service, signedHeaders, signature] = auth;
  if (keyId !== aws.accessKeyId)
    return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
  if (region !== aws.region || service !== 'monitoring')
    return fail(403, 'SignatureDoesNotMatch', `Credential should be scoped to a valid region (${region}/${service}).`);
  const headers: Record<string, string> = {};
  for (const name of signedHeaders!.split(';')) headers[name] = String(req.headers[name] ?? '');
  const amzDate = headers['x-amz-date'] ?? '';
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: aws.accessKeyId,
      secretAccessKey: aws.secretAccessKey,
      ...(aws.sessionToken ? { sessionToken: aws.sessionToken } : {}),
    },
    region: aws.region,
    service: 'monitoring',
    sha256: NodeSha256,
  });
  const [host, port] = (headers.host ?? '').split(':');
  const expected = await signer.sign(
    {
      method: req.method ?? '',
      protocol: 'http:',
      hostname: host!,
      port: Number(port),
      path: url.pathname,
      query: {},
      headers,
      body,
    },
    { signingDate: new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')) },
  );
  const recomputed = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1];
  if (recomputed !== signature || (aws.sessionToken && headers['x-amz-security-token'] !== aws.sessionToken))
    return fail(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
    );
  if (
    req.headers['x-amz-target'] !== CLOUDWATCH_TARGET ||
    !String(req.headers['content-type']).startsWith('application/x-amz-json-1.0')
  )
    return fail(400, 'UnknownOperationException', 'unknown operation');
  let request: {
    MetricDataQueries?: { Id?: string; Expression?: string; Period?: number }[];
    StartTime?: number;
    EndTime?: number;
  };
  try {
    request = JSON.parse(body);
  } catch {
    return fail(400, 'SerializationException', 'the body is not JSON');
  }
  const first = request.MetricDataQueries?.[0];
  if (!first?.Id || !first.Expression || typeof request.StartTime !== 'number' || typeof request.EndTime !== 'number')
    return fail(400, 'MissingParameter', 'The parameters MetricDataQueries, StartTime and EndTime are required.');
  const answer = standIn.answer(first.Expression);
  if (answer === 'down') return fail(503, 'ServiceUnavailable', 'Service is unavailable');
  // CloudWatch throttles with a 400 and the code Throttling.
  if (answer === 'rate-limited') return fail(400, 'Throttling', 'Rate exceeded');
  if (answer === 'bad-query') return fail(400, 'InvalidParameterValue', `Syntax error in expression ${first.Id}`);
  const result = (label: string, value: number | null) => ({
    Id: first.Id,
    Label: label,
    Timestamps: value === null ? [] : [request.EndTime! - 60, request.EndTime! - 120],
    Values: value === null ? [] : [value, value / 2],
    StatusCode: 'Complete',
  });
  const results =
    answer === 'empty'
      ? [result(first.Id, null)]
      : answer === 'two-series'
        ? [result('blue', 0.1), result('green', 0.2)]
        : typeof answer === 'object' && 'json' in answer
          ? (answer.json as unknown[])
          : [result(first.Id, answer.value)];
  reply(200, { MetricDataResults: results, Messages: [] });
}

/** STS's AssumeRoleWithWebIdentity (the query protocol, XML): the role's session for the right token. */
function sts(body: string, standIn: ProviderStandIn, res: import('node:http').ServerResponse): void {
  const form = new URLSearchParams(body);
  const aws = standIn.keys.aws;
  const xml = (status: number, text: string) =>
    void res.writeHead(status, { 'content-type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${text}`);
  if (
    !aws?.webIdentity ||
    form.get('WebIdentityToken') !== aws.webIdentity.token ||
    form.get('RoleArn') !== aws.webIdentity.roleArn
  )
    return xml(
      400,
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Couldn\'t retrieve verification key from your identity provider</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>',
    );
  const expiration = new Date(Date.now() + 3600_000).toISOString();
  xml(
    200,
    `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${aws.accessKeyId}</AccessKeyId><SecretAccessKey>${aws.secretAccessKey}</SecretAccessKey><SessionToken>${aws.sessionToken ?? ''}</SessionToken><Expiration>${expiration}</Expiration></Credentials><SubjectFromWebIdentityToken>repo:acme/shop:ref:refs/heads/main</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>${aws.webIdentity.roleArn.replace(':role/', ':assumed-role/')}/${form.get('RoleSessionName') ?? 'session'}</Arn><AssumedRoleId>AROASTANDIN:${form.get('RoleSessionName') ?? 'session'}</AssumedRoleId></AssumedRoleUser><Audience>sts.amazonaws.com</Audience><Provider>token.actions.githubusercontent.com</Provider></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
  );
}
