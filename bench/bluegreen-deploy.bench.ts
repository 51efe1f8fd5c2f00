// bluegreen-deploy against kubectl doing the same blue-green flip by hand (apply --server-side of the
// idle colour, rollout status, patch of the live Service's selector), on the same manifests, at 3, 100
// and 1,000 replicas, interleaved ABBA in one run, each measured flip in a fresh namespace with one colour
// live. Prints wall time and Kubernetes API requests.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/bluegreen-deploy.bench.ts [runs] [replicas,…]   (or all: bash bench/run.sh)
// runs: per replica count (half of it, four at least, at 1,000); replicas: default 3,100,1000.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { median } from './median.ts';

const runs = Number(process.argv[2] ?? 4);
const kubeconfigPath = process.env.DEPLOY_SUITE_KUBECONFIG;
if (!kubeconfigPath) throw new Error('start the platform first: eval "$(test/platform/up.sh)"');
const kubeconfig = Buffer.from(readFileSync(kubeconfigPath, 'utf8')).toString('base64');
const stamp = Date.now().toString(16).slice(-6);
const event = await loadEvent('push-default-branch');
let serial = 0;
const nextImage = () =>
  `127.0.0.1:5000/bench/app@sha256:${(stamp + String(++serial).padStart(4, '0')).padEnd(64, 'a').slice(0, 64)}`;

function kubectl(args: string[], input?: string): { seconds: number; requests: number } {
  const started = performance.now();
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath!, '-v=6', ...args], { encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${result.stderr.slice(-2000)}`);
  const requests = result.stderr
    .split('\n')
    .filter(
      (l) => /"?(GET|POST|PUT|PATCH|DELETE)"? .*https:\/\/127\.0\.0\.1/.test(l) && /\b[1-5][0-9]{2}\b/.test(l),
    ).length;
  return { seconds: (performance.now() - started) / 1000, requests };
}

// The same objects the action renders: a colour Deployment and the live Service.
function deploymentManifest(ns: string, colour: string, image: string, replicas: number): string {
  const labels = { 'app.kubernetes.io/name': 'base', 'deploy-suite.dev/colour': colour };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `base-${colour}`, namespace: ns, labels },
    spec: {
      replicas,
      progressDeadlineSeconds: 120,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'base', image, ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  });
}

function baselineFlip(
  ns: string,
  colour: string,
  image: string,
  replicas: number,
): { seconds: number; requests: number } {
  const steps = [
    kubectl(
      ['apply', '--server-side', '--field-manager=bench', '-f', '-'],
      deploymentManifest(ns, colour, image, replicas),
    ),
    kubectl(['rollout', 'status', '-n', ns, `deployment/base-${colour}`, '--timeout=150s']),
    kubectl([
      'patch',
      'service',
      '-n',
      ns,
      'base',
      '-p',
      JSON.stringify({ spec: { selector: { 'deploy-suite.dev/colour': colour } } }),
    ]),
  ];
  return { seconds: steps.reduce((s, x) => s + x.seconds, 0), requests: steps.reduce((s, x) => s + x.requests, 0) };
}

async function oursDeploy(ns: string, image: string, replicas: number): Promise<{ seconds: number; requests: number }> {
  const result = await runAction(
    'bluegreen-deploy',
    { kubeconfig, namespace: ns, app: 'ours', image, replicas: String(replicas), 'progress-deadline': '2m' },
    event,
  );
  if (result.exitCode !== 0) throw new Error(`bluegreen-deploy failed:\n${result.log.slice(-2000)}`);
  return { seconds: result.seconds, requests: Number(result.outputs['api-requests']) };
}

// Each measured flip runs in a namespace of its own, set up with one colour live and deleted (waited for)
// afterwards: the thousands of pods a flip replaces are not still being deleted while the other side is
// measured (in one shared namespace that carry-over moved results by ±40 %).
function freshNamespace(replicas: number): string {
  const ns = `bench-${stamp}-${replicas}-${++serial}`;
  kubectl(['create', 'namespace', ns]);
  return ns;
}
const dropNamespace = (ns: string) => kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=600s']);

function kubectlRun(replicas: number): { seconds: number; requests: number } {
  const ns = freshNamespace(replicas);
  kubectl(
    ['apply', '--server-side', '--field-manager=bench', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'base', namespace: ns },
      spec: {
        selector: { 'app.kubernetes.io/name': 'base', 'deploy-suite.dev/colour': 'blue' },
        ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      },
    }),
  );
  baselineFlip(ns, 'blue', nextImage(), replicas);
  const measured = baselineFlip(ns, 'green', nextImage(), replicas);
  dropNamespace(ns);
  return measured;
}

async function oursRun(replicas: number): Promise<{ seconds: number; requests: number }> {
  const ns = freshNamespace(replicas);
  await oursDeploy(ns, nextImage(), replicas);
  const measured = await oursDeploy(ns, nextImage(), replicas);
  dropNamespace(ns);
  return measured;
}

const results: Record<string, unknown>[] = [];
const replicaCounts = (process.argv[3] ?? '3,100,1000').split(',').map(Number);
for (const replicas of replicaCounts) {
  const base: { seconds: number; requests: number }[] = [];
  const ours: { seconds: number; requests: number }[] = [];
  // At 1,000 replicas a run pair takes ~2 min and the rollout alone varies by ±1.5 s run to run: fewer
  // runs, but four at least for a median that means something.
  const count = replicas >= 1000 ? Math.max(4, Math.ceil(runs / 2)) : runs;
  for (let i = 0; i < count; i++) {
    // ABBA order: a drift in the machine's speed weighs on both sides alike.
    if (i % 2 === 0) {
      base.push(kubectlRun(replicas));
      ours.push(await oursRun(replicas));
    } else {
      ours.push(await oursRun(replicas));
      base.push(kubectlRun(replicas));
    }
    console.log(
      `replicas ${String(replicas).padStart(4)} run ${i + 1}: kubectl ${base.at(-1)!.seconds.toFixed(3)} s / ${base.at(-1)!.requests} requests   bluegreen-deploy ${ours.at(-1)!.seconds.toFixed(3)} s / ${ours.at(-1)!.requests} requests`,
    );
  }
  results.push({
    replicas,
    runs: count,
    kubectlMedianSeconds: Number(median(base.map((b) => b.seconds)).toFixed(3)),
    oursMedianSeconds: Number(median(ours.map((o) => o.seconds)).toFixed(3)),
    ratio: Number((median(ours.map((o) => o.seconds)) / median(base.map((b) => b.seconds))).toFixed(3)),
    kubectlRequests: median(base.map((b) => b.requests)),
    oursRequests: median(ours.map((o) => o.requests)),
  });
}
console.log('\nreplicas   kubectl (s)   bluegreen-deploy (s)   ratio   requests kubectl / ours');
for (const r of results) {
  console.log(
    `${String(r.replicas).padStart(8)}   ${String(r.kubectlMedianSeconds).padStart(11)}   ${String(r.oursMedianSeconds).padStart(20)}   ${String(r.ratio).padStart(5)}   ${r.kubectlRequests} / ${r.oursRequests}`,
  );
}
console.log(
  '(ours also takes and releases the lock, checks the preview Service, records history; goal: ratio <= 1.0, requests flat in replicas)',
);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(
  join(repoRoot, 'bench/results/bluegreen-deploy.json'),
  `${JSON.stringify({ benchmark: 'bluegreen-deploy vs kubectl apply --server-side + rollout status + patch', results }, null, 2)}\n`,
);
