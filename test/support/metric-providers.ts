// A local stand-in of the metric providers beyond Prometheus, answering the request shapes their docs
// give: Datadog's metrics query API (GET /api/v1/query, DD-API-KEY and DD-APPLICATION-KEY, from/to in
// seconds), New Relic's NerdGraph (POST /graphql, API-Key, the NRQL in variables.nrql) and any JSON
// endpoint (/web/…). What a query answers is the test's: a value, no data, several series, an error of
// the query, or the provider down. Every request is recorded, headers included, for the tests to read.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProviderAnswer =
  { value: number | null } | 'empty' | 'two-series' | 'bad-query' | 'down' | 'rate-limited' | { json: unknown };

export interface SeenRequest {
  provider: 'datadog' | 'newrelic' | 'web';
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
  keys: { datadogApi: string; datadogApplication: string; newRelic: string; web: string };
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
          : 'web';
      let query = provider === 'web' ? url.pathname + url.search : (url.searchParams.get('query') ?? '');
      if (provider === 'newrelic') {
        try {
          query = (JSON.parse(body) as { variables?: { nrql?: string } }).variables?.nrql ?? '';
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
