// The main job, locally: runs the pipeline's actions, bundled, as the GitHub runner runs them, on the
// local platform — build-image → sbom-and-sign → bluegreen-deploy (refusing unsigned images) →
// verify-rollback (Prometheus analysis of the new colour, which the metrics emitter plays healthy) — and
// leaves each step's summary, outputs and log in .tmp/demo/ for a person to read.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadEvent, repoRoot, runAction, type ActionRun } from '../test/support/action-runner.ts';

const registry = process.env.DEPLOY_SUITE_REGISTRY!;
const out = join(repoRoot, '.tmp/demo');
mkdirSync(out, { recursive: true });
const event = await loadEvent(process.argv[2] ?? 'push-default-branch');
// The demo signs with the test fixtures' key pair; a real workflow passes its own from secrets.
const cosignKey = readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.key'), 'utf8');
const namespace = 'demo';

function keep(step: string, run: ActionRun): void {
  writeFileSync(join(out, `${step}.log`), run.log);
  writeFileSync(join(out, `${step}.summary.html`), run.summary);
  writeFileSync(join(out, `${step}.outputs.json`), `${JSON.stringify(run.outputs, null, 2)}\n`);
  if (run.exitCode !== 0) {
    console.error(run.log.split('\n').filter((l) => !l.startsWith('::add-mask::')).slice(-40).join('\n'));
    console.error(`${step} failed (exit ${run.exitCode}); full log: ${join(out, `${step}.log`)}`);
    process.exit(1);
  }
}

console.log(`== build-image (event: ${event.eventName} ${event.ref})`);
const build = await runAction('build-image', { image: `${registry}/demo/shop-api`, context: 'test/fixtures/app', 'build-args': `APP_VERSION=${new Date().toISOString()}`, 'require-non-root': 'true' }, event);
keep('build-image', build);
console.log(`image:   ${build.outputs.image}`);
console.log(`tags:    ${build.outputs.tags!.split('\n').join(', ')}`);
console.log(`time:    ${build.seconds.toFixed(2)} s (${build.outputs['cached-steps']} steps cached)`);

console.log('\n== sbom-and-sign');
const signed = await runAction(
  'sbom-and-sign',
  {
    image: build.outputs.image!,
    'cosign-private-key': cosignKey,
    'cosign-password': 'fixture-password',
    syft: process.env.DEPLOY_SUITE_SYFT!,
    trivy: process.env.DEPLOY_SUITE_TRIVY!,
    'trivy-cache-dir': process.env.DEPLOY_SUITE_TRIVY_CACHE!,
    offline: 'true',
    'output-dir': join(out, 'sbom'),
  },
  event,
);
keep('sbom-and-sign', signed);
console.log(`gate:    ${signed.outputs.gate} ${signed.outputs.findings}`);
console.log(`signed:  ${signed.outputs.signature}; attestations ${signed.outputs.attestations}`);
console.log(`time:    ${signed.seconds.toFixed(2)} s`);

console.log('\n== bluegreen-deploy');
const kubeconfig = process.env.DEPLOY_SUITE_KUBECONFIG!;
spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'create', 'namespace', namespace], { encoding: 'utf8' });
const deployed = await runAction(
  'bluegreen-deploy',
  { kubeconfig: readFileSync(kubeconfig, 'utf8'), namespace, app: 'shop-api', image: build.outputs.image!, replicas: '3', 'verify-key': 'test/fixtures/cosign/cosign.pub' },
  event,
);
keep('bluegreen-deploy', deployed);
console.log(`live:    ${deployed.outputs['live-colour']}, revision ${deployed.outputs.revision}${deployed.outputs.noop === 'true' ? ' (already live)' : ''}`);
console.log(`time:    ${deployed.seconds.toFixed(2)} s`);

console.log('\n== verify-rollback');
// The emitter plays the app's traffic as Prometheus will scrape it: the new colour healthy.
for (const colour of ['blue', 'green']) {
  await fetch(`${process.env.DEPLOY_SUITE_EMITTER}/apps/shop-api/${colour}`, { method: 'PUT', body: JSON.stringify({ rps: 40, errorRate: 0, latencySeconds: 0.03 }) });
}
await new Promise((resolve) => setTimeout(resolve, 3000));
const verified = await runAction(
  'verify-rollback',
  { kubeconfig: readFileSync(kubeconfig, 'utf8'), namespace, app: 'shop-api', 'expect-digest': deployed.outputs.digest!, 'prometheus-url': process.env.DEPLOY_SUITE_PROMETHEUS!, 'error-rate-max': '0.01', 'p95-max': '250ms', 'metrics-window': '10s', 'metrics-checks': '3', 'metrics-interval': '1s' },
  event,
);
keep('verify-rollback', verified);
console.log(`verdict: ${verified.outputs.verdict} (rolled back: ${verified.outputs['rolled-back']})`);
console.log(`time:    ${verified.seconds.toFixed(2)} s`);

console.log(`\nWhere to look:`);
console.log(`  job summaries  ${out}/<step>.summary.html`);
console.log(`  outputs, logs  ${out}/<step>.outputs.json, ${out}/<step>.log`);
console.log(`  SBOMs, SARIF   ${join(out, 'sbom')}`);
console.log(`  registry       curl -s http://${registry}/v2/demo/shop-api/tags/list`);
console.log(`  cluster        kubectl --kubeconfig ${kubeconfig} -n ${namespace} get deploy,svc,configmap`);
console.log(`  metrics        ${process.env.DEPLOY_SUITE_PROMETHEUS}/graph`);
console.log(`  verify         ${process.env.DEPLOY_SUITE_COSIGN} verify --key test/fixtures/cosign/cosign.pub --insecure-ignore-tlog=true ${build.outputs.image}`);
