// Real traffic through releases on the real node (test/platform/realnode.sh), four ways side by side in
// one run, on the same app, pod spec and load:
//   bluegreen-deploy (idle colour, preview check, switch; verify-rollback for the way back);
//   the blue-green a user scripts by hand: kubectl apply of the idle colour, rollout status, kubectl
//   patch of the Service's selector (and the patch back);
//   kubectl rollout of one Deployment (set image, rollout status; rollout undo);
//   Argo Rollouts' blue-green (activeService, previewService, autoPromotionEnabled, the default
//   scaleDownDelaySeconds; the image set back to roll back), its controller built from its module.
// vegeta at a fixed rate on the live Service's ClusterIP, with a new connection per request and with
// kept-alive connections, through a new release and then the way back: failed requests, p99 latency,
// time from the command to the new release answering, and to the old one answering again. Then a bad
// release (every request a 500) goes live under the same analysis (its error rate from Prometheus, every
// second over 10 s): how long it answers before traffic is back on the good release.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/traffic.bench.ts [all|bad]   (or all: bash bench/run.sh)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtInMetricChecks, judgeMetric, queryInstant } from '../packages/checks/src/index.ts';
import { createKubeClient, parseKubeconfig } from '../packages/kube/src/index.ts';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { awaitVersion, buildRealApp, prepareRealApp, serviceUrl } from '../test/support/real-app.ts';
import { attack, type VegetaReport } from '../test/support/vegeta.ts';

const kubeconfigPath = process.env.DEPLOY_SUITE_KUBECONFIG;
if (!kubeconfigPath || !process.env.DEPLOY_SUITE_REAL_NODE)
  throw new Error('start the platform first: eval "$(test/platform/up.sh)"');
const argoController = process.env.DEPLOY_SUITE_ARGO_ROLLOUTS ?? '';
const withArgo = existsSync(argoController);
if (!withArgo) console.log('Argo Rollouts is not built: bash test/platform/up.sh argo (bench/run.sh does); left out');
const kubeconfigText = readFileSync(kubeconfigPath, 'utf8');
const client = createKubeClient(parseKubeconfig(kubeconfigText));
const run = `t${randomBytes(3).toString('hex')}`;
const app = prepareRealApp(run);
const prometheus = process.env.DEPLOY_SUITE_PROMETHEUS!;
const RATE = 50;
const SECONDS = 30;
const push = await loadEvent('push-default-branch');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function kubectl(args: string[], input?: string): void {
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath!, ...args], { encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${result.stderr.slice(-2000)}`);
}

const namespaces: string[] = [];
const controllers: ChildProcess[] = [];
let port = 18_090;

/** A namespace of the run; an Argo Rollouts controller of its own for the Argo method. */
async function freshNamespace(name: string, argo = false): Promise<string> {
  const ns = `${run}-${name}`;
  kubectl(['create', 'namespace', ns]);
  namespaces.push(ns);
  if (argo) {
    const controller = spawn(
      argoController,
      [
        '--kubeconfig',
        kubeconfigPath!,
        '--namespaced',
        '--namespace',
        ns,
        '--healthzPort',
        String(port++),
        '--metricsPort',
        String(port++),
        '--leader-elect=false',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    controllers.push(controller);
  }
  return ns;
}

const labels = { 'app.kubernetes.io/name': 'shop' };
/** The real-node pod template (test/fixtures/real-app/deployment.yaml) with `image`. */
const podTemplate = (image: string, extraLabels: Record<string, string> = {}) => ({
  metadata: {
    labels: { ...labels, ...extraLabels },
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
  },
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
});
const deployment = (ns: string, name: string, image: string, colour?: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: { ...labels, ...(colour ? { colour } : {}) } },
      template: podTemplate(image, colour ? { colour } : {}),
    },
  });
const service = (ns: string, name: string, selector: Record<string, string>) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
const rolloutStatus = (ns: string, name: string) =>
  kubectl(['rollout', 'status', '-n', ns, `deployment/${name}`, '--timeout=120s']);

// Argo's post-promotion analysis: the same check as verify-rollback's error-rate-max 0.05 (the new
// pods' 5xx share over 10 s, every second, five times), the pods selected by their template hash; NaN
// (no traffic yet) is no failure, as in Argo's own examples.
const argoAnalysis = (ns: string) =>
  JSON.stringify({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: 'error-rate', namespace: ns },
    spec: {
      args: [{ name: 'hash' }],
      metrics: [
        {
          name: 'error-rate',
          interval: '1s',
          count: 5,
          failureLimit: 0,
          successCondition: 'isNaN(result[0]) || result[0] <= 0.05',
          failureCondition: 'result[0] > 0.05',
          provider: {
            prometheus: {
              address: prometheus,
              query: `sum(rate(http_requests_total{namespace="${ns}",app="shop",colour="{{args.hash}}",code=~"5.."}[10s])) / sum(rate(http_requests_total{namespace="${ns}",app="shop",colour="{{args.hash}}"}[10s]))`,
            },
          },
        },
      ],
    },
  });
const argoRollout = (ns: string, image: string, analysis: boolean) =>
  JSON.stringify({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'shop', namespace: ns },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: podTemplate(image),
      strategy: {
        blueGreen: {
          activeService: 'shop',
          previewService: 'shop-preview',
          autoPromotionEnabled: true,
          ...(analysis
            ? {
                postPromotionAnalysis: {
                  templates: [{ templateName: 'error-rate' }],
                  args: [{ name: 'hash', valueFrom: { podTemplateHashValue: 'Latest' } }],
                },
              }
            : {}),
        },
      },
    },
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
  /** In namespace names. */
  slug: string;
  argo?: boolean;
  /** Brings up `image` live in `ns`, the first release. */
  setup: (ns: string, image: string) => Promise<void>;
  /** Puts `image` live, the way this method does (returns once its command is done). */
  release: (ns: string, image: string) => Promise<void>;
  /** Puts the previous release back (its button, or what a user's script runs). */
  rollback: (ns: string, previous: string) => Promise<void>;
}

const methods: Method[] = [
  {
    name: 'bluegreen-deploy',
    slug: 'ours',
    setup: oursDeploy,
    release: oursDeploy,
    rollback: async (ns) => {
      const result = await runAction(
        'verify-rollback',
        { kubeconfig: kubeconfigText, namespace: ns, app: 'shop', 'rollback-to': 'previous' },
        await loadEvent('workflow-dispatch'),
      );
      if (result.exitCode !== 0) throw new Error(`verify-rollback failed:\n${result.log.slice(-2000)}`);
    },
  },
  {
    name: 'kubectl patch selector',
    slug: 'patch',
    setup: async (ns, image) => {
      kubectl(['apply', '-f', '-'], service(ns, 'shop', { ...labels, colour: 'blue' }));
      kubectl(['apply', '-f', '-'], deployment(ns, 'shop-blue', image, 'blue'));
      rolloutStatus(ns, 'shop-blue');
    },
    release: async (ns, image) => {
      kubectl(['apply', '-f', '-'], deployment(ns, 'shop-green', image, 'green'));
      rolloutStatus(ns, 'shop-green');
      kubectl(['patch', 'service', '-n', ns, 'shop', '-p', '{"spec":{"selector":{"colour":"green"}}}']);
    },
    rollback: async (ns) =>
      kubectl(['patch', 'service', '-n', ns, 'shop', '-p', '{"spec":{"selector":{"colour":"blue"}}}']),
  },
  {
    name: 'kubectl rollout',
    slug: 'rollout',
    setup: async (ns, image) => {
      kubectl(['apply', '-f', '-'], service(ns, 'shop', labels));
      kubectl(['apply', '-f', '-'], deployment(ns, 'shop', image));
      rolloutStatus(ns, 'shop');
    },
    release: async (ns, image) => {
      kubectl(['set', 'image', '-n', ns, 'deployment/shop', `app=${image}`]);
      rolloutStatus(ns, 'shop');
    },
    rollback: async (ns) => {
      kubectl(['rollout', 'undo', '-n', ns, 'deployment/shop']);
      rolloutStatus(ns, 'shop');
    },
  },
  ...(withArgo
    ? [
        {
          name: 'Argo Rollouts blue-green',
          slug: 'argo',
          argo: true,
          setup: async (ns: string, image: string) => {
            kubectl(['apply', '-f', '-'], service(ns, 'shop', labels));
            kubectl(['apply', '-f', '-'], service(ns, 'shop-preview', labels));
            kubectl(['apply', '-f', '-'], argoAnalysis(ns));
            kubectl(['apply', '-f', '-'], argoRollout(ns, image, false));
            await argoSettled(ns);
          },
          release: async (ns: string, image: string) => {
            kubectl(['apply', '-f', '-'], argoRollout(ns, image, false));
            await argoSettled(ns);
          },
          // `kubectl argo rollouts undo` sets the template back to the previous revision's.
          rollback: async (ns: string, previous: string) => {
            kubectl(['apply', '-f', '-'], argoRollout(ns, previous, false));
            await argoSettled(ns);
          },
        } satisfies Method,
      ]
    : []),
];

/** Waits (2 min at most) until the Rollout's controller has promoted what its spec asks for. */
async function argoSettled(ns: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const got = spawnSync(
      'kubectl',
      ['--kubeconfig', kubeconfigPath!, 'get', '-n', ns, 'rollout', 'shop', '-o', 'json'],
      {
        encoding: 'utf8',
      },
    );
    const rollout =
      got.status === 0 ? (JSON.parse(got.stdout) as { metadata: { generation?: number }; status?: object }) : undefined;
    const status = (rollout?.status ?? {}) as {
      observedGeneration?: string;
      phase?: string;
      stableRS?: string;
      currentPodHash?: string;
    };
    if (
      String(status.observedGeneration) === String(rollout?.metadata.generation) &&
      status.phase === 'Healthy' &&
      status.stableRS === status.currentPodHash
    )
      return;
    await sleep(100);
  }
  throw new Error(`the Argo Rollout in ${ns} did not become Healthy within 2 min`);
}

const failedOf = (r: VegetaReport) =>
  Object.entries(r.status_codes)
    .filter(([code]) => code !== '200')
    .reduce((n, [, count]) => n + count, 0);

interface Row {
  method: string;
  connections: string;
  failed: number;
  requests: number;
  p99Ms: number;
  toLiveSeconds: number;
  backSeconds: number;
}

const [v1, v2, bad] = [
  await buildRealApp(app, `${run}/shop`, 'v1'),
  await buildRealApp(app, `${run}/shop`, 'v2'),
  await buildRealApp(app, `${run}/shop`, 'v3-errors', 'errors'),
];
const rows: Row[] = [];
const back: { method: string; badAnswers: number; badSeconds: number; note: string }[] = [];
// `bad`: only the bad releases (the switches take ~6 of the run's ~9 minutes).
const only = process.argv[2] ?? 'all';
try {
  for (const keepalive of only === 'bad' ? [] : [false, true]) {
    for (const method of methods) {
      const ns = await freshNamespace(`${method.slug}-${keepalive ? 'ka' : 'new'}`, method.argo);
      await method.setup(ns, v1);
      const versionUrl = await serviceUrl(client, ns, 'shop', '/version');
      await awaitVersion(versionUrl, 'v1'); // kube-proxy programs the new Service (1 s sync here)
      const load = attack(await serviceUrl(client, ns, 'shop', '/'), RATE, SECONDS, { keepalive });
      await sleep(3000);
      let started = performance.now();
      await method.release(ns, v2);
      const toLive = await awaitVersion(versionUrl, 'v2', 30_000);
      const toLiveSeconds = (performance.now() - started) / 1000;
      await sleep(3000);
      started = performance.now();
      await method.rollback(ns, v1);
      await awaitVersion(versionUrl, 'v1', 30_000);
      const backSeconds = (performance.now() - started) / 1000;
      const report = await load.done;
      if (toLive.version !== 'v2') throw new Error(`${method.name}: v2 never answered`);
      const row: Row = {
        method: method.name,
        connections: keepalive ? 'kept alive' : 'new per request',
        failed: failedOf(report),
        requests: report.requests,
        p99Ms: Number((report.latencies['99th'] / 1e6).toFixed(1)),
        toLiveSeconds: Number(toLiveSeconds.toFixed(2)),
        backSeconds: Number(backSeconds.toFixed(2)),
      };
      rows.push(row);
      console.log(
        `${row.method.padEnd(26)} ${row.connections.padEnd(16)} ${row.failed} of ${row.requests} failed ${JSON.stringify(report.status_codes)}, p99 ${row.p99Ms} ms, live in ${row.toLiveSeconds} s, back in ${row.backSeconds} s`,
      );
    }
  }

  /**
   * A bad release put live with `putLive`: how many requests it answered (its 500s) until traffic was back
   * on v1, and what that is in seconds of the load's rate (a rolling update mixes old and new pods, so
   * "how long it was live" is the count of its answers, whichever method).
   */
  async function badRelease(name: string, method: Method, putLive: (ns: string) => Promise<string>): Promise<void> {
    const ns = await freshNamespace(`bad-${name}`, method.argo);
    await method.setup(ns, v1);
    const versionUrl = await serviceUrl(client, ns, 'shop', '/version');
    await awaitVersion(versionUrl, 'v1');
    const load = attack(await serviceUrl(client, ns, 'shop', '/'), RATE, SECONDS, { keepalive: false });
    await sleep(2000);
    const note = await putLive(ns);
    await awaitVersion(versionUrl, 'v1', 30_000);
    const report = await load.done;
    const badAnswers = report.status_codes['500'] ?? 0;
    if (failedOf(report) !== badAnswers)
      throw new Error(`${method.name}: requests failed beyond the bad release's 500s`);
    back.push({ method: method.name, badAnswers, badSeconds: Number((badAnswers / RATE).toFixed(2)), note });
    console.log(`bad release, ${method.name}: ${badAnswers} answers of 500 (${back.at(-1)!.badSeconds} s), ${note}`);
  }

  await badRelease('ours', methods[0]!, async (ns) => {
    await oursDeploy(ns, bad);
    const verified = await runAction(
      'verify-rollback',
      {
        kubeconfig: kubeconfigText,
        namespace: ns,
        app: 'shop',
        'prometheus-url': prometheus,
        'error-rate-max': '0.05',
        'metrics-window': '10s',
        'metrics-checks': '5',
        'metrics-interval': '1s',
      },
      push,
    );
    if (verified.outputs['rolled-back'] !== 'true')
      throw new Error(`verify-rollback did not roll back:\n${verified.log.slice(-2000)}`);
    return `verify-rollback switched back ${verified.outputs['rollback-seconds']} s after it started`;
  });
  await badRelease('preview', methods[0]!, async (ns) => {
    // The same release with bluegreen-deploy's check before the switch: the app's own path through the
    // preview Service (the new colour, not live yet).
    const deployed = await runAction(
      'bluegreen-deploy',
      {
        ...deployInputs(ns, bad),
        'preview-url': await serviceUrl(client, ns, 'shop-preview', '/'),
        'preview-checks': '1',
      },
      push,
    );
    if (deployed.exitCode === 0) throw new Error('bluegreen-deploy put a release that answers 500 live');
    return 'preview-url checked through the preview Service: the deploy failed before the switch';
  });
  await badRelease('undo', methods[2]!, async (ns) => {
    await methods[2]!.release(ns, bad);
    // The same query, polled at the same interval by the user's script, then kubectl rollout undo.
    const [errorRate] = builtInMetricChecks({
      app: 'shop',
      colour: '',
      window: '10s',
      matchers: [`namespace="${ns}"`],
      errorRateMax: 0.05,
    });
    for (let i = 0; i < 30; i++) {
      const measured = judgeMetric(
        errorRate!,
        await queryInstant(prometheus, errorRate!.query, { timeoutMs: 5000 }),
        0,
        'Prometheus',
      );
      if (!measured.ok && !measured.inconclusive) break;
      await sleep(1000);
    }
    await methods[2]!.rollback(ns, v1);
    return 'the error rate polled every 1 s, then kubectl rollout undo';
  });
  if (withArgo)
    await badRelease('argo', methods[3]!, async (ns) => {
      kubectl(['apply', '-f', '-'], argoRollout(ns, bad, true));
      const versionUrl = await serviceUrl(client, ns, 'shop', '/version');
      await awaitVersion(versionUrl, 'v3-errors', 60_000);
      await awaitVersion(versionUrl, 'v1', 60_000);
      return "Argo's postPromotionAnalysis aborts the rollout: the active Service back on the stable ReplicaSet";
    });

  console.log(`\nthrough a release and back (vegeta, ${RATE} requests/s for ${SECONDS} s, on the real node)`);
  console.log('method                     connections      failed / requests   p99 (ms)   to live (s)   back (s)');
  for (const r of rows)
    console.log(
      `${r.method.padEnd(26)} ${r.connections.padEnd(16)} ${`${r.failed} / ${r.requests}`.padStart(17)}   ${String(r.p99Ms).padStart(8)}   ${String(r.toLiveSeconds).padStart(11)}   ${String(r.backSeconds).padStart(8)}`,
    );
  console.log(
    `\na bad release (every request a 500) under the same analysis (5xx share every 1 s over 10 s): its answers until traffic was back`,
  );
  for (const b of back)
    console.log(
      `${b.method.padEnd(26)} ${String(b.badAnswers).padStart(5)} (${String(b.badSeconds).padStart(5)} s)   ${b.note}`,
    );
  console.log('(goal: 0 failed through every change; a bad release live for the analysis interval plus under 0.5 s)');
  mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
  const resultFile = join(repoRoot, 'bench/results/traffic.json');
  // Only the bad releases: the switches' rows of the last full run stay.
  if (only === 'bad' && existsSync(resultFile))
    rows.push(...(JSON.parse(readFileSync(resultFile, 'utf8')) as { rows: Row[] }).rows);
  writeFileSync(
    resultFile,
    `${JSON.stringify({ benchmark: 'requests through releases on the real node', rate: RATE, seconds: SECONDS, rows, back }, null, 2)}\n`,
  );
} finally {
  for (const controller of controllers) controller.kill();
  for (const ns of namespaces)
    spawnSync('kubectl', ['--kubeconfig', kubeconfigPath, 'delete', 'namespace', ns, '--wait=false']);
  client.close();
}
