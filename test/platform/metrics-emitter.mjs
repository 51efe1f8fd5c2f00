// A stand-in for an app's metrics that the tests control: per namespace, app and colour, it plays traffic
// at a request rate, an error share and a latency, as counters and a latency histogram in the Prometheus
// text format (what a real service exports), so the analysis queries real Prometheus over real series,
// labelled as a Kubernetes scrape labels them (namespace) and as the suite's queries select (app, colour).
//   GET  /metrics                                      the series
//   PUT  /apps/<namespace>/<app>/<colour>  {"rps":20,"errorRate":0,"latencySeconds":0.02}   set how a colour behaves
//   DELETE /apps/<namespace>/<app>/<colour>            stop playing it
import { createServer } from 'node:http';
import { setInterval } from 'node:timers';

const port = Number(process.env.DEPLOY_SUITE_EMITTER_PORT ?? 9464);
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TICK_MS = 100;
/** key "namespace/app/colour" → behaviour and counters */
const series = new Map();

function play(s, seconds) {
  const requests = s.rps * seconds;
  s.requests += requests;
  s.errors += requests * s.errorRate;
  s.sum += requests * s.latencySeconds;
  // Every request of a tick takes the set latency: it lands in the first bucket at or above it.
  const bucket = BUCKETS.findIndex((le) => s.latencySeconds <= le);
  for (let i = bucket === -1 ? BUCKETS.length : bucket; i < BUCKETS.length; i++) s.buckets[i] += requests;
}

setInterval(() => {
  for (const s of series.values()) play(s, TICK_MS / 1000);
}, TICK_MS).unref();

function exposition() {
  const lines = ['# HELP http_requests_total Requests served, by status class.', '# TYPE http_requests_total counter'];
  for (const [key, s] of series) {
    const [namespace, app, colour] = key.split('/');
    const l = `namespace="${namespace}",app="${app}",colour="${colour}"`;
    lines.push(`http_requests_total{${l},code="200"} ${(s.requests - s.errors).toFixed(3)}`);
    lines.push(`http_requests_total{${l},code="500"} ${s.errors.toFixed(3)}`);
  }
  lines.push('# HELP http_request_duration_seconds Request latency.', '# TYPE http_request_duration_seconds histogram');
  for (const [key, s] of series) {
    const [namespace, app, colour] = key.split('/');
    const l = `namespace="${namespace}",app="${app}",colour="${colour}"`;
    BUCKETS.forEach((le, i) =>
      lines.push(`http_request_duration_seconds_bucket{${l},le="${le}"} ${s.buckets[i].toFixed(3)}`),
    );
    lines.push(`http_request_duration_seconds_bucket{${l},le="+Inf"} ${s.requests.toFixed(3)}`);
    lines.push(`http_request_duration_seconds_sum{${l}} ${s.sum.toFixed(3)}`);
    lines.push(`http_request_duration_seconds_count{${l}} ${s.requests.toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://emitter');
  if (req.method === 'GET' && url.pathname === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition());
    return;
  }
  const match = /^\/apps\/([a-z0-9-]+)\/([a-z0-9-]+)\/(blue|green)$/.exec(url.pathname);
  if (!match) return void res.writeHead(404).end('not found\n');
  const key = `${match[1]}/${match[2]}/${match[3]}`;
  if (req.method === 'DELETE') {
    series.delete(key);
    return void res.writeHead(204).end();
  }
  if (req.method !== 'PUT') return void res.writeHead(405).end();
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const b = JSON.parse(body || '{}');
    const s = series.get(key) ?? { requests: 0, errors: 0, sum: 0, buckets: BUCKETS.map(() => 0) };
    Object.assign(s, {
      rps: Number(b.rps ?? 20),
      errorRate: Number(b.errorRate ?? 0),
      latencySeconds: Number(b.latencySeconds ?? 0.02),
    });
    series.set(key, s);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ key, rps: s.rps, errorRate: s.errorRate, latencySeconds: s.latencySeconds }));
  });
}).listen(port, '127.0.0.1');
