// bluegreen-deploy against kubectl doing the same blue-green flip by hand (apply --server-side of the
// idle colour, rollout status, patch of the live Service's selector), on the same manifests, at 3, 100
// and 1,000 replicas, interleaved ABBA in one run, each measured flip in a fresh namespace with one colour
// live. Prints wall time and Kubernetes API requests.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/bluegreen-deploy.bench.ts [runs] [replicas,…]   (or all: bash bench/run.sh)
// runs: per replica count (half of it, four at least, at 1,000); replicas: default 3,100,1000.
import { readFileSync } from 'node:fs';
import { loadEvent, runAction } from '../test/support/action-runner.ts';
import { compareFlips, dropNamespace, freshNamespace, kubectl, reportFlips, total, type Measure } from './flips.ts';

const runs = Number(process.argv[2] ?? 4);
const kubeconfig = Buffer.from(readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8')).toString('base64');
const stamp = Date.now().toString(16).slice(-6);
const event = await loadEvent('push-default-branch');
let serial = 0;
const nextImage = () =>
  `127.0.0.1:5000/bench/app@sha256:${(stamp + String(++serial).padStart(4, '0')).padEnd(64, 'a').slice(0, 64)}`;

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

function baselineFlip(ns: string, colour: string, image: string, replicas: number): Measure {
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
  return total(steps);
}

async function oursDeploy(ns: string, image: string, replicas: number): Promise<Measure> {
  const result = await runAction(
    'bluegreen-deploy',
    { kubeconfig, namespace: ns, app: 'ours', image, replicas: String(replicas), 'progress-deadline': '2m' },
    event,
  );
  if (result.exitCode !== 0) throw new Error(`bluegreen-deploy failed:\n${result.log.slice(-2000)}`);
  return { seconds: result.seconds, requests: Number(result.outputs['api-requests']) };
}

function kubectlRun(replicas: number): Measure {
  const ns = freshNamespace(`bench-${stamp}-${replicas}-${++serial}`);
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

async function oursRun(replicas: number): Promise<Measure> {
  const ns = freshNamespace(`bench-${stamp}-${replicas}-${++serial}`);
  await oursDeploy(ns, nextImage(), replicas);
  const measured = await oursDeploy(ns, nextImage(), replicas);
  dropNamespace(ns);
  return measured;
}

const results = await compareFlips(runs, (process.argv[3] ?? '3,100,1000').split(',').map(Number), kubectlRun, oursRun);
reportFlips(
  results,
  'takes and releases the lock, checks the preview Service, records history',
  'bluegreen-deploy.json',
  'bluegreen-deploy vs kubectl apply --server-side + rollout status + patch',
);
