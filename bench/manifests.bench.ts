// bluegreen-deploy of an app shipped as a Kustomize overlay (ConfigMap, Secret, HPA, PDB, ServiceAccount,
// Ingress, a migration Job) against what a user does by hand with kubectl on the same rendered manifests:
// `kubectl kustomize` with the colour's names, `apply --server-side`, wait for the migration Job, rollout
// status, patch of the live Service's selector. At 3 and 1,000 replicas, ABBA in one run, each measured
// flip in a fresh namespace with one colour live. Prints wall time and Kubernetes API requests.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/manifests.bench.ts [runs] [replicas,…]
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { compareFlips, dropNamespace, freshNamespace, kubectl, reportFlips, total, type Measure } from './flips.ts';

const runs = Number(process.argv[2] ?? 4);
const kubeconfig = Buffer.from(readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8')).toString('base64');
const stamp = Date.now().toString(16).slice(-6);
const event = await loadEvent('push-default-branch');
let serial = 0;
const nextImage = () =>
  `127.0.0.1:5000/bench/app@sha256:${(stamp + String(++serial).padStart(4, '0')).padEnd(64, 'b').slice(0, 64)}`;

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
  return total(steps);
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

function kubectlRun(dir: string, replicas: number): Measure {
  const ns = freshNamespace(`bench-m-${stamp}-${replicas}-${++serial}`);
  kubectlFlip(dir, ns, 'blue', nextImage(), true);
  const measured = kubectlFlip(dir, ns, 'green', nextImage(), false);
  dropNamespace(ns);
  return measured;
}

async function oursRun(dir: string, replicas: number): Promise<Measure> {
  const ns = freshNamespace(`bench-m-${stamp}-${replicas}-${++serial}`);
  await oursDeploy(dir, ns, nextImage());
  const measured = await oursDeploy(dir, ns, nextImage());
  dropNamespace(ns);
  return measured;
}

// One overlay per replica count, made once.
const overlays = new Map<number, string>();
const overlayOf = (replicas: number) =>
  overlays.get(replicas) ?? overlays.set(replicas, overlay(replicas)).get(replicas)!;
const results = await compareFlips(
  runs,
  (process.argv[3] ?? '3,1000').split(',').map(Number),
  (replicas) => kubectlRun(overlayOf(replicas), replicas),
  (replicas) => oursRun(overlayOf(replicas), replicas),
);
reportFlips(
  results,
  'renders the overlay, versions its configuration, takes the lock, checks the preview, runs the migration, records history and prunes',
  'manifests.json',
  'bluegreen-deploy (manifests) vs kubectl kustomize + apply --server-side + wait job + rollout status + patch',
);
