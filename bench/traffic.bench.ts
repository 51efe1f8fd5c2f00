// Real traffic through a release on the real node (test/platform/realnode.sh): vegeta at a fixed rate on
// the live Service's ClusterIP while the release changes, three ways side by side in one run —
//   bluegreen-deploy (idle colour, preview check, switch);
//   the blue-green a user scripts by hand: kubectl apply of the idle colour, rollout status, kubectl
//   patch of the Service's selector;
//   kubectl rollout of one Deployment (set image, rollout status: Kubernetes' rolling update);
// each with a new connection per request and with kept-alive connections (as browsers and service
// clients keep them): failed requests and p99 latency. Then a bad release live (every request a 500):
// the time from its going live to traffic back on the good release, bluegreen-deploy + verify-rollback
// (Prometheus scraping the real pods) against kubectl rollout undo run once the same analysis fails.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/traffic.bench.ts   (or all: bash bench/run.sh)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtInMetricChecks, judgeMetric, queryInstant } from '../packages/checks/src/index.ts';
import { createKubeClient, parseKubeconfig } from '../packages/kube/src/index.ts';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { buildRealApp, prepareRealApp, serviceUrl, watchVersions } from '../test/support/real-app.ts';
import { attack, type VegetaReport } from '../test/support/vegeta.ts';

const kubeconfigPath = process.env.DEPLOY_SUITE_KUBECONFIG;
if (!kubeconfigPath || !process.env.DEPLOY_SUITE_REAL_NODE)
  throw new Error('start the platform first: eval "$(test/platform/up.sh)"');
const kubeconfigText = readFileSync(kubeconfigPath, 'utf8');
const client = createKubeClient(parseKubeconfig(kubeconfigText));
const run = `t${randomBytes(3).toString('hex')}`;
const app = prepareRealApp(run);
const RATE = 50;
const SECONDS = 20;
const ANALYSIS = { interval: '1s', window: '10s' };
const push = await loadEvent('push-default-branch');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function kubectl(args: string[], input?: string): void {
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath!, ...args], { encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${result.stderr.slice(-2000)}`);
}

const namespaces: string[] = [];
function freshNamespace(name: string): string {
  const ns = `${run}-${name}`;
  kubectl(['create', 'namespace', ns]);
  namespaces.push(ns);
  return ns;
}

// The pod spec of the real-node template, for the kubectl baselines (the same probe, toleration and port).
function deployment(ns: string, name: string, labels: Record<string, string>, image: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' } },
        spec: {
          nodeSelector: { 'deploy-suite.dev/node': 'real' },
          tolerations: [{ key: 'deploy-suite.dev/real-node', operator: 'Exists', effect: 'NoSchedule' }],
          containers: [
            {
              name: 'app',
              image,
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  });
}
const service = (ns: string, selector: Record<string, string>) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'shop', namespace: ns },
    spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });

const deployInputs = (ns: string, image: string) => ({
  kubeconfig: kubeconfigText,
  namespace: ns,
  app: 'shop',
  image,
  replicas: '2',
  'container-port': '8080',
  'deployment-template': app.template,
});

async function oursDeploy(ns: string, image: string): Promise<void> {
  const result = await runAction('bluegreen-deploy', deployInputs(ns, image), push);
  if (result.exitCode !== 0) throw new Error(`bluegreen-deploy failed:\n${result.log.slice(-2000)}`);
}

interface Method {
  name: string;
  /** Brings up v1 live in `ns`. */
  setup: (ns: string, v1: string) => Promise<void>;
  /** Puts v2 live, the way this method does. */
  change: (ns: string, v2: string) => Promise<void>;
}

const byHand = { 'app.kubernetes.io/name': 'shop' };
const methods: Method[] = [
  {
    name: 'bluegreen-deploy',
    setup: (ns, v1) => oursDeploy(ns, v1),
    change: (ns, v2) => oursDeploy(ns, v2),
  },
  {
    name: 'kubectl patch selector',
    setup: async (ns, v1) => {
      kubectl(['apply', '-f', '-'], service(ns, { ...byHand, colour: 'blue' }));
      kubectl(['apply', '-f', '-'], deployment(ns, 'shop-blue', { ...byHand, colour: 'blue' }, v1));
      kubectl(['rollout', 'status', '-n', ns, 'deployment/shop-blue', '--timeout=120s']);
    },
    change: async (ns, v2) => {
      kubectl(['apply', '-f', '-'], deployment(ns, 'shop-green', { ...byHand, colour: 'green' }, v2));
      kubectl(['rollout', 'status', '-n', ns, 'deployment/shop-green', '--timeout=120s']);
      kubectl([
        'patch',
        'service',
        '-n',
        ns,
        'shop',
        '-p',
        JSON.stringify({ spec: { selector: { colour: 'green' } } }),
      ]);
    },
  },
  {
    name: 'kubectl rollout',
    setup: async (ns, v1) => {
      kubectl(['apply', '-f', '-'], service(ns, byHand));
      kubectl(['apply', '-f', '-'], deployment(ns, 'shop', byHand, v1));
      kubectl(['rollout', 'status', '-n', ns, 'deployment/shop', '--timeout=120s']);
    },
    change: async (ns, v2) => {
      kubectl(['set', 'image', '-n', ns, 'deployment/shop', `app=${v2}`]);
      kubectl(['rollout', 'status', '-n', ns, 'deployment/shop', '--timeout=120s']);
    },
  },
];

interface Row {
  method: string;
  connections: 'new per request' | 'kept alive';
  requests: number;
  failed: number;
  codes: Record<string, number>;
  p99Ms: number;
}
const failedOf = (r: VegetaReport) =>
  Object.entries(r.status_codes)
    .filter(([code]) => code !== '200')
    .reduce((n, [, count]) => n + count, 0);

const [v1, v2, bad] = [
  await buildRealApp(app, `${run}/shop`, 'v1'),
  await buildRealApp(app, `${run}/shop`, 'v2'),
  await buildRealApp(app, `${run}/shop`, 'v3-errors', 'errors'),
];
const rows: Row[] = [];
try {
  for (const keepalive of [false, true]) {
    for (const method of methods) {
      const ns = freshNamespace(`${method.name.split(' ').at(-1)}-${keepalive ? 'ka' : 'new'}`);
      await method.setup(ns, v1);
      await sleep(2000); // kube-proxy programs the new Service (1 s sync here)
      const load = attack(await serviceUrl(client, ns, 'shop', '/'), RATE, SECONDS, { keepalive });
      await sleep(3000);
      await method.change(ns, v2);
      const report = await load.done;
      const row: Row = {
        method: method.name,
        connections: keepalive ? 'kept alive' : 'new per request',
        requests: report.requests,
        failed: failedOf(report),
        codes: report.status_codes,
        p99Ms: Number((report.latencies['99th'] / 1e6).toFixed(1)),
      };
      rows.push(row);
      console.log(
        `${row.method.padEnd(24)} ${row.connections.padEnd(16)} ${row.failed} of ${row.requests} failed, p99 ${row.p99Ms} ms ${JSON.stringify(row.codes)}`,
      );
      kubectl(['delete', 'namespace', ns, '--wait=false']);
    }
  }

  // A bad release live: how long until traffic is back on the good one.
  const back: { method: string; badLiveSeconds: number; analysis: string }[] = [];
  {
    const ns = freshNamespace('auto');
    await oursDeploy(ns, v1);
    await sleep(2000);
    const versions = watchVersions(await serviceUrl(client, ns, 'shop', '/version'));
    const load = attack(await serviceUrl(client, ns, 'shop', '/'), RATE, SECONDS, { keepalive: false });
    await sleep(2000);
    await oursDeploy(ns, bad);
    const verified = await runAction(
      'verify-rollback',
      {
        kubeconfig: kubeconfigText,
        namespace: ns,
        app: 'shop',
        'prometheus-url': process.env.DEPLOY_SUITE_PROMETHEUS!,
        'error-rate-max': '0.05',
        'metrics-window': ANALYSIS.window,
        'metrics-checks': '20',
        'metrics-interval': ANALYSIS.interval,
      },
      push,
    );
    if (verified.outputs['rolled-back'] !== 'true')
      throw new Error(`verify-rollback did not roll back:\n${verified.log.slice(-2000)}`);
    await sleep(1500);
    const seen = await versions.stop();
    const report = await load.done;
    const live = seen.get('v3-errors')!;
    back.push({
      method: 'bluegreen-deploy + verify-rollback',
      badLiveSeconds: Number(((live.last - live.first) / 1000).toFixed(2)),
      analysis: `error-rate every ${ANALYSIS.interval} over ${ANALYSIS.window}; ${failedOf(report)} of ${report.requests} requests answered 5xx, rollback ${verified.outputs['rollback-seconds']} s`,
    });
  }
  {
    // The hand-made equivalent: one Deployment, the same analysis query polled at the same interval, and
    // kubectl rollout undo once it fails (what a user's script does with `kubectl rollout`).
    const ns = freshNamespace('undo');
    await methods[2]!.setup(ns, v1);
    await sleep(2000);
    const versions = watchVersions(await serviceUrl(client, ns, 'shop', '/version'));
    const load = attack(await serviceUrl(client, ns, 'shop', '/'), RATE, SECONDS, { keepalive: false });
    await sleep(2000);
    await methods[2]!.change(ns, bad);
    // The pods kubectl made carry no colour label: colour="" selects series without one.
    const [errorRate] = builtInMetricChecks({
      app: 'shop',
      colour: '',
      window: ANALYSIS.window,
      matchers: [`namespace="${ns}"`],
      errorRateMax: 0.05,
    });
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const measured = judgeMetric(
        errorRate!,
        await queryInstant(process.env.DEPLOY_SUITE_PROMETHEUS!, errorRate!.query, { timeoutMs: 5000 }),
        performance.now() - started,
      );
      if (!measured.ok && !measured.inconclusive) break;
      await sleep(1000);
    }
    kubectl(['rollout', 'undo', '-n', ns, 'deployment/shop']);
    kubectl(['rollout', 'status', '-n', ns, 'deployment/shop', '--timeout=120s']);
    await sleep(1500);
    const seen = await versions.stop();
    const report = await load.done;
    const live = seen.get('v3-errors')!;
    back.push({
      method: 'kubectl rollout + the same analysis + rollout undo',
      badLiveSeconds: Number(((live.last - live.first) / 1000).toFixed(2)),
      analysis: `${failedOf(report)} of ${report.requests} requests answered 5xx or failed`,
    });
  }
  console.log('\nthrough a change of release (vegeta, %d requests/s for %d s, on the real node)', RATE, SECONDS);
  console.log('method                   connections      failed / requests   p99 (ms)');
  for (const r of rows)
    console.log(
      `${r.method.padEnd(24)} ${r.connections.padEnd(16)} ${`${r.failed} / ${r.requests}`.padStart(17)}   ${String(r.p99Ms).padStart(8)}`,
    );
  console.log('\na bad release live until traffic is back on the good one');
  for (const b of back) console.log(`${b.method}: ${b.badLiveSeconds} s (${b.analysis})`);
  console.log('(goal: 0 failed through every change; bad release live for the analysis interval plus under 0.5 s)');
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(
    join(repoRoot, 'bench/results/traffic.json'),
    `${JSON.stringify({ benchmark: 'requests through a change of release on the real node', rate: RATE, seconds: SECONDS, rows, back }, null, 2)}\n`,
  );
} finally {
  for (const ns of namespaces)
    spawnSync('kubectl', ['--kubeconfig', kubeconfigPath, 'delete', 'namespace', ns, '--wait=false']);
  client.close();
}
