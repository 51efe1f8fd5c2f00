// Rollback time: verify-rollback (bundled, run as the runner runs it, `rollback-to: previous`, the old
// colour warm) from the action's process start to the live selector switched back (its rollback-seconds), against `kubectl patch` of the
// same selector, interleaved ABBA in one run. Each run flips the app back to its other colour. Also the
// automatic path: an analysis that fails on its first measurement, then the switch; and the manual one
// under a signature policy.
//   node --experimental-transform-types --import ./scripts/ts-resolve.mjs bench/verify-rollback.bench.ts [runs]   (or all: bash bench/run.sh)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RegistryClient, parseReference } from '@deploy-suite/oci';
import {
  PREDICATE_TYPES,
  attachBundle,
  imageStatement,
  keySigning,
  openCosignPrivateKey,
  signStatement,
} from '@deploy-suite/supply-chain';
import { loadEvent, repoRoot, runAction } from '../test/support/action-runner.ts';
import { freshImage } from '../test/support/registry-api.ts';
import { median } from './median.ts';

const runs = Number(process.argv[2] ?? 9);
const kubeconfigPath = process.env.DEPLOY_SUITE_KUBECONFIG;
if (!kubeconfigPath) throw new Error('start the platform first: eval "$(test/platform/up.sh)"');
const kubeconfig = readFileSync(kubeconfigPath, 'utf8');
const ns = `bench-rb-${Date.now().toString(36)}`;
const app = 'shop';
const deployEvent = await loadEvent('push-default-branch');
const dispatch = await loadEvent('workflow-dispatch');

function kubectl(args: string[]): number {
  const started = performance.now();
  const result = spawnSync('kubectl', ['--kubeconfig', kubeconfigPath!, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed:\n${result.stderr}`);
  return (performance.now() - started) / 1000;
}

async function deploy(n: number): Promise<void> {
  const run = await runAction(
    'bluegreen-deploy',
    {
      kubeconfig,
      namespace: ns,
      app,
      replicas: '3',
      image: `127.0.0.1:5000/bench/shop@sha256:${String(n).repeat(64).slice(0, 64)}`,
    },
    deployEvent,
  );
  if (run.exitCode !== 0) throw new Error(run.log.slice(-2000));
}

const liveColour = () =>
  spawnSync(
    'kubectl',
    [
      '--kubeconfig',
      kubeconfigPath!,
      '-n',
      ns,
      'get',
      'svc',
      app,
      '-o',
      'jsonpath={.spec.selector.deploy-suite\\.dev/colour}',
    ],
    { encoding: 'utf8' },
  ).stdout.trim();

/** The baseline: what a person types to switch the live Service back by hand. */
function viaKubectl(): number {
  const target = liveColour() === 'blue' ? 'green' : 'blue';
  return kubectl([
    '-n',
    ns,
    'patch',
    'service',
    app,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { selector: { 'deploy-suite.dev/colour': target } } }),
  ]);
}

async function viaAction(inputs: Record<string, string>): Promise<{ seconds: number; toSwitch: number }> {
  const run = await runAction('verify-rollback', { kubeconfig, namespace: ns, app, ...inputs }, dispatch);
  if (!run.outputs['rolled-back'] || run.outputs['rolled-back'] !== 'true')
    throw new Error(`verify-rollback did not roll back:\n${run.log.slice(-2000)}`);
  return { seconds: run.seconds, toSwitch: Number(run.outputs['rollback-seconds']) };
}

spawnSync('kubectl', ['--kubeconfig', kubeconfigPath, 'create', 'namespace', ns]);
await deploy(1);
await deploy(2);
// The action's own state and the Service must agree before each action run: kubectl flips are undone by
// flipping back (two patches), so both sides always start from the state the annotations describe.
const kubectlTimes: number[] = [];
const toSwitch: number[] = [];
const wall: number[] = [];
console.log('run   kubectl patch (s)   verify-rollback: start to switch (s)   whole run (s)');
for (let i = 0; i < runs; i++) {
  let k: number;
  let o: { seconds: number; toSwitch: number };
  if (i % 2 === 0) {
    k = viaKubectl();
    viaKubectl();
    o = await viaAction({ 'rollback-to': 'previous' });
  } else {
    o = await viaAction({ 'rollback-to': 'previous' });
    k = viaKubectl();
    viaKubectl();
  }
  kubectlTimes.push(k);
  toSwitch.push(o.toSwitch);
  wall.push(o.seconds);
  console.log(
    `${String(i + 1).padEnd(5)} ${k.toFixed(3).padStart(17)}   ${o.toSwitch.toFixed(3).padStart(36)}   ${o.seconds.toFixed(3).padStart(13)}`,
  );
}

// The automatic path: an HTTP check that fails at once (nothing listens), then the switch.
const automatic: number[] = [];
for (let i = 0; i < Math.max(3, Math.ceil(runs / 3)); i++) {
  const run = await runAction(
    'verify-rollback',
    { kubeconfig, namespace: ns, app, 'http-url': 'http://127.0.0.1:9/healthz', 'http-checks': '1' },
    dispatch,
  );
  if (run.outputs['rolled-back'] !== 'true') throw new Error(run.log.slice(-2000));
  automatic.push(Number(run.outputs['rollback-seconds']));
}
// The same rollback under a signature policy (verify-key): two signed images, each rollback verifies the
// target's signature in the registry before the switch. What the policy costs a user pressing the button.
const signedApp = 'signed';
const fixtures = join(repoRoot, 'test/fixtures/cosign');
const key = await openCosignPrivateKey(readFileSync(join(fixtures, 'cosign.key'), 'utf8'), 'fixture-password');
for (const n of [1, 2]) {
  const image = await freshImage(`${ns}/signed`, `${ns}-${n}`);
  const ref = parseReference(image);
  const bundle = await signStatement(imageStatement(ref.digest!, PREDICATE_TYPES.signature, {}), keySigning(key));
  await attachBundle(new RegistryClient(), ref, bundle, PREDICATE_TYPES.signature);
  const run = await runAction(
    'bluegreen-deploy',
    { kubeconfig, namespace: ns, app: signedApp, replicas: '3', image },
    deployEvent,
  );
  if (run.exitCode !== 0) throw new Error(run.log.slice(-2000));
}
const verifyKey = readFileSync(join(fixtures, 'cosign.pub'), 'utf8');
const signed: number[] = [];
for (let i = 0; i < Math.max(3, Math.ceil(runs / 3)); i++) {
  const run = await runAction(
    'verify-rollback',
    { kubeconfig, namespace: ns, app: signedApp, 'rollback-to': 'previous', 'verify-key': verifyKey },
    dispatch,
  );
  if (run.outputs['rolled-back'] !== 'true') throw new Error(run.log.slice(-2000));
  signed.push(Number(run.outputs['rollback-seconds']));
}
spawnSync('kubectl', ['--kubeconfig', kubeconfigPath, 'delete', 'namespace', ns, '--wait=false']);

const result = {
  benchmark: 'verify-rollback (rollback-to: previous, warm colour) vs kubectl patch of the live selector',
  runs,
  kubectlMedianSeconds: Number(median(kubectlTimes).toFixed(3)),
  oursToSwitchMedianSeconds: Number(median(toSwitch).toFixed(3)),
  oursWholeRunMedianSeconds: Number(median(wall).toFixed(3)),
  ratio: Number((median(toSwitch) / median(kubectlTimes)).toFixed(3)),
  automaticToSwitchMedianSeconds: Number(median(automatic).toFixed(3)),
  signedToSwitchMedianSeconds: Number(median(signed).toFixed(3)),
  goal: 'rollback <= 2 s',
  kubectl: kubectlTimes,
  oursToSwitch: toSwitch,
  automatic,
  signed,
  node: process.version,
};
console.log(
  `median ${result.kubectlMedianSeconds.toFixed(3).padStart(16)}   ${result.oursToSwitchMedianSeconds.toFixed(3).padStart(36)}   ${result.oursWholeRunMedianSeconds.toFixed(3).padStart(13)}   ratio ${result.ratio.toFixed(3)} (goal ${result.goal})`,
);
console.log(
  `automatic rollback (failed analysis → switched): median ${result.automaticToSwitchMedianSeconds.toFixed(3)} s`,
);
console.log(
  `under a signature policy (verify-key, the target verified first): median ${result.signedToSwitchMedianSeconds.toFixed(3)} s, against ${result.oursToSwitchMedianSeconds.toFixed(3)} s without`,
);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/verify-rollback.json'), `${JSON.stringify(result, null, 2)}\n`);
