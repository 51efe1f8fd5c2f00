// bluegreen-deploy of an app shipped as a Kustomize overlay (ConfigMap, Secret, HPA, PDB, ServiceAccount,
// Ingress, a migration Job) against what a user does by hand with kubectl on the same rendered manifests:
// `kubectl kustomize` with the colour's names, `apply --server-side`, wait for the migration Job, rollout
// status, patch of the live Service's selector. At 3 and 1,000 replicas, ABBA in one run, each measured
// flip in a fresh namespace with one colour live. Prints wall time and Kubernetes API requests.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/manifests.bench.ts [runs] [replicas,…]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
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
  `127.0.0.1:5000/bench/app@sha256:${(stamp + String(++serial).padStart(4, '0')).padEnd(64, 'b').slice(0, 64)}`;

type Measure = { seconds: number; requests: number };

function kubectl(args: string[], input?: string): Measure & { stdout: string } {
  const started = performance.now();
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath!, '-v=6', ...args], { encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${result.stderr.slice(-2000)}`);
  const requests = result.stderr
    .split('\n')
    .filter(
      (l) => /"?(GET|POST|PUT|PATCH|DELETE)"? .*https:\/\/127\.0\.0\.1/.test(l) && /\b[1-5][0-9]{2}\b/.test(l),
    ).length;
  return { seconds: (performance.now() - started) / 1000, requests, stdout: result.stdout };
}

/** An overlay of the tests' Kustomize app at `replicas` (its HPA allowing them), in the workspace. */
function overlay(replicas: number): string {
  const dir = mkdtempSync(join(repoRoot, '.tmp', 'bench-overlay-'));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${relative(dir, join(repoRoot, 'test/fixtures/apps/kustomize/base'))}]`,
      'patches:',
      '  - target: {kind: Deployment, name: kshop}',
      `    patch: '[{"op": "replace", "path": "/spec/replicas", "value": ${replicas}}]'`,
      '  - target: {kind: HorizontalPodAutoscaler, name: kshop}',
      `    patch: '[{"op": "replace", "path": "/spec/minReplicas", "value": ${replicas}}, {"op": "replace", "path": "/spec/maxReplicas", "value": ${replicas * 2}}]'`,
    ].join('\n'),
  );
  return dir;
}

/** The overlay as a user flips it by hand: the Deployment, its HPA, PDB and Job named for the colour. */
function byHand(dir: string, ns: string, colour: string, image: string): string {
  const rendered = kubectl(['kustomize', dir]).stdout;
  interface Rendered {
    kind: string;
    metadata: { name: string; namespace?: string };
    spec: {
      selector?: unknown;
      scaleTargetRef?: { name: string };
      template: { metadata: { labels?: Record<string, string> }; spec: { containers: { image: string }[] } };
    };
  }
  const objects = parseAllDocuments(rendered).map((d) => d.toJS() as Rendered);
  for (const o of objects) {
    o.metadata.namespace = ns;
    if (o.kind === 'Deployment') {
      o.metadata.name = `kshop-${colour}`;
      const labels = { app: 'kshop', colour };
      o.spec.selector = { matchLabels: labels };
      o.spec.template.metadata.labels = labels;
      o.spec.template.spec.containers[0]!.image = image;
    }
    if (o.kind === 'HorizontalPodAutoscaler') {
      o.metadata.name = `kshop-${colour}`;
      o.spec.scaleTargetRef!.name = `kshop-${colour}`;
    }
    if (o.kind === 'PodDisruptionBudget') {
      o.metadata.name = `kshop-${colour}`;
      o.spec.selector = { matchLabels: { app: 'kshop', colour } };
    }
    if (o.kind === 'Job') {
      o.metadata.name = `kshop-migrate-${colour}-${serial}`;
      o.spec.template.spec.containers[0]!.image = image;
    }
    if (o.kind === 'Service') o.spec.selector = { app: 'kshop', colour: 'none-yet' };
  }
  return objects.map((o) => JSON.stringify(o)).join('\n');
}

function kubectlFlip(dir: string, ns: string, colour: string, image: string, first: boolean): Measure {
  const manifests = byHand(dir, ns, colour, image);
  const job = /"name":"(kshop-migrate-[^"]+)"/.exec(manifests)![1]!;
  // A first release also makes the Service; later ones leave its selector to the patch.
  const objects = first
    ? manifests
    : manifests
        .split('\n')
        .filter((line) => !line.includes('"kind":"Service"'))
        .join('\n');
  const steps = [
    kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=bench', '-f', '-'], objects),
    kubectl(['wait', '-n', ns, '--for=condition=complete', `job/${job}`, '--timeout=150s']),
    kubectl(['rollout', 'status', '-n', ns, `deployment/kshop-${colour}`, '--timeout=300s']),
    kubectl([
      'patch',
      'service',
      '-n',
      ns,
      'kshop',
      '-p',
      JSON.stringify({ spec: { selector: { app: 'kshop', colour } } }),
    ]),
  ];
  return { seconds: steps.reduce((s, x) => s + x.seconds, 0), requests: steps.reduce((s, x) => s + x.requests, 0) };
}

async function oursDeploy(dir: string, ns: string, image: string): Promise<Measure> {
  const result = await runAction(
    'bluegreen-deploy',
    { kubeconfig, namespace: ns, app: 'kshop', image, manifests: relative(repoRoot, dir), 'progress-deadline': '5m' },
    event,
  );
  if (result.exitCode !== 0) throw new Error(`bluegreen-deploy failed:\n${result.log.slice(-2000)}`);
  return { seconds: result.seconds, requests: Number(result.outputs['api-requests']) };
}

function freshNamespace(replicas: number): string {
  const ns = `bench-m-${stamp}-${replicas}-${++serial}`;
  kubectl(['create', 'namespace', ns]);
  return ns;
}
const dropNamespace = (ns: string) => kubectl(['delete', 'namespace', ns, '--wait=true', '--timeout=600s']);

function kubectlRun(dir: string, replicas: number): Measure {
  const ns = freshNamespace(replicas);
  kubectlFlip(dir, ns, 'blue', nextImage(), true);
  const measured = kubectlFlip(dir, ns, 'green', nextImage(), false);
  dropNamespace(ns);
  return measured;
}

async function oursRun(dir: string, replicas: number): Promise<Measure> {
  const ns = freshNamespace(replicas);
  await oursDeploy(dir, ns, nextImage());
  const measured = await oursDeploy(dir, ns, nextImage());
  dropNamespace(ns);
  return measured;
}

const results: Record<string, unknown>[] = [];
for (const replicas of (process.argv[3] ?? '3,1000').split(',').map(Number)) {
  const dir = overlay(replicas);
  const base: Measure[] = [];
  const ours: Measure[] = [];
  const count = replicas >= 1000 ? Math.max(4, Math.ceil(runs / 2)) : runs;
  for (let i = 0; i < count; i++) {
    // ABBA order: a drift in the machine's speed weighs on both sides alike.
    if (i % 2 === 0) {
      base.push(kubectlRun(dir, replicas));
      ours.push(await oursRun(dir, replicas));
    } else {
      ours.push(await oursRun(dir, replicas));
      base.push(kubectlRun(dir, replicas));
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
for (const r of results)
  console.log(
    `${String(r.replicas).padStart(8)}   ${String(r.kubectlMedianSeconds).padStart(11)}   ${String(r.oursMedianSeconds).padStart(20)}   ${String(r.ratio).padStart(5)}   ${r.kubectlRequests} / ${r.oursRequests}`,
  );
console.log(
  '(ours also renders the overlay, versions its configuration, takes the lock, checks the preview, runs the migration, records history and prunes; goal: ratio <= 1.0, requests flat in replicas)',
);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(
  join(repoRoot, 'bench/results/manifests.json'),
  `${JSON.stringify({ benchmark: 'bluegreen-deploy (manifests) vs kubectl kustomize + apply --server-side + wait job + rollout status + patch', results }, null, 2)}\n`,
);
