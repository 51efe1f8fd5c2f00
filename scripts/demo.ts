// The main job, locally: the suite's reusable workflows run for real under act, called from a user's
// repository (test/support/act-runner.ts), against the local platform —
//   1. the pull-request check: build (pr-<n> tag only), gate, deploy as a server-side dry run;
//   2. the release: build-image → sbom-and-sign → bluegreen-deploy (signature checked) + verify-rollback
//      in staging, then in production. The app is the test app as a real service on the platform's real
//      node (test/fixtures/real-app): vegeta sends it traffic through each environment's live Service
//      while the release runs, Prometheus scrapes its pods, and the analysis reads their real metrics.
// Each run's outcome is read back from the registry, the cluster and the live Services' answers; the job
// summaries, logs and SBOMs are left in .tmp/demo/ for a person to read.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKubeClient, parseKubeconfig, readHistory, resourcePath } from '@deploy-suite/kube';
import { loadEvent, repoRoot } from '../test/support/action-runner.js';
import { commit, createUserRepo, runAct, type ActRun } from '../test/support/act-runner.js';
import { getOnce, serviceUrl } from '../test/support/real-app.js';
import { startPlatformReleases } from '../test/support/releases-host.js';
import { attack, summarize, type Attack } from '../test/support/vegeta.js';

const registry = process.env.DEPLOY_SUITE_REGISTRY!;
const kubeconfigPath = process.env.DEPLOY_SUITE_KUBECONFIG!;
const kubeconfigText = readFileSync(kubeconfigPath, 'utf8');
const out = join(repoRoot, '.tmp/demo');
const artifacts = join(out, 'artifacts');
mkdirSync(artifacts, { recursive: true });
const app = 'shop';
const namespaces = { staging: 'demo-staging', production: 'demo-production' };
const imageRepository = 'demo/shop';
// syft and trivy installed as a GitHub-hosted runner installs them (downloaded, checked, unpacked), from
// a local stand-in for github.com's release downloads serving the platform's builds.
const releases = await startPlatformReleases();
const vars = {
  ...releases.vars(),
  IMAGE: `${registry}/${imageRepository}`,
  NAMESPACE: namespaces.production,
  STAGING_NAMESPACE: namespaces.staging,
  TRIVY_CACHE_DIR: process.env.DEPLOY_SUITE_TRIVY_CACHE!,
  PROMETHEUS_URL: process.env.DEPLOY_SUITE_PROMETHEUS!,
  DEPLOYMENT_TEMPLATE: 'app/deployment.yaml',
  // The analysis of real traffic: five measurements a second apart, once the new colour has data.
  ANALYSIS_CHECKS: '5',
  ANALYSIS_INTERVAL: '1s',
};
// Repository secrets as the user would set them. The demo signs with the test fixtures' key pair and
// pushes to an open registry (the credentials are there to be passed, and masked, as in real use).
const cosignKey = readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.key'), 'utf8');
const secrets = {
  KUBECONFIG: Buffer.from(kubeconfigText).toString('base64'),
  REGISTRY_USERNAME: 'demo',
  REGISTRY_PASSWORD: 'demo-registry-password',
  COSIGN_PRIVATE_KEY: `"${cosignKey.trim().replace(/\n/g, '\\n')}"`, // dotenv: the PEM's newlines as \n
  COSIGN_PASSWORD: 'fixture-password',
};

const client = createKubeClient(parseKubeconfig(kubeconfigText));
const summary: string[] = ['# deploy-suite demo', ''];

function keep(name: string, title: string, run: ActRun): void {
  writeFileSync(join(out, `${name}.log`), run.log);
  summary.push(
    `## ${title}`,
    '',
    '| job | result |',
    '|---|---|',
    ...Object.entries(run.jobs).map(([job, result]) => `| ${job} | ${result} |`),
    '',
  );
  for (const s of run.summaries) summary.push(`### ${s.job} · ${s.step}`, '', s.content.trim(), '');
  console.log(
    Object.entries(run.jobs)
      .map(([job, result]) => `  ${job}: ${result}`)
      .join('\n'),
  );
  if (run.code !== 0) {
    console.error(run.log.split('\n').slice(-40).join('\n'));
    console.error(`${title} failed (act exit ${run.code}); full log: ${join(out, `${name}.log`)}`);
    writeFileSync(join(out, 'SUMMARY.md'), summary.join('\n'));
    process.exit(1);
  }
}

async function tags(): Promise<string[]> {
  const response = await fetch(`http://${registry}/v2/${imageRepository}/tags/list`);
  return response.ok ? (((await response.json()) as { tags?: string[] }).tags ?? []) : [];
}

const started = performance.now();
// A namespace an earlier version of the demo deployed to kwok's nodes (pods nothing answers for) is made
// anew: the traffic through this release is meant to meet real pods only.
for (const name of Object.values(namespaces)) {
  const { items } = await client.request<{ items: { spec?: unknown }[] }>(
    'GET',
    resourcePath('apps/v1', 'Deployment', name),
  );
  const simulated = items.some(
    (d) =>
      (d.spec as { template?: { spec?: { nodeSelector?: Record<string, string> } } }).template?.spec?.nodeSelector?.[
        'deploy-suite.dev/node'
      ] !== 'real',
  );
  if (!simulated) continue;
  console.log(`  ${name}: deployed by an earlier demo to simulated nodes; deleting it first`);
  await client.delete('v1', 'Namespace', undefined, name);
  const deadline = Date.now() + 180_000;
  while ((await client.get('v1', 'Namespace', undefined, name)) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 500));
}
for (const name of Object.values(namespaces))
  await client.apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    { fieldManager: 'deploy-suite-demo' },
  );
// A new commit each run, with the next version: a new image, so a re-run deploys to the other colour.
const version = `1.${(await readHistory(client, namespaces.production, app)).length + 1}`;
const repo = await createUserRepo(join(out, 'repo'), { realApp: true });
await commit(repo, `release ${version}`, { 'app/VERSION': `${version}\n` });

/**
 * Traffic through an environment's live Service while the release runs: vegeta at 20 requests a second,
 * a new connection each, from the moment the Service answers (the first release creates it) until
 * stopped, 15 minutes at most.
 */
function traffic(namespace: string): { stop: () => Promise<string> } {
  let load: Attack | undefined;
  let stopped = false;
  const started = (async () => {
    const deadline = Date.now() + 900_000;
    while (!stopped && Date.now() < deadline) {
      // From the moment the live Service answers: kube-proxy programs a new one within a second, and
      // requests before that would fail for want of the Service, not because of the release.
      if (await client.get('v1', 'Service', namespace, app)) {
        const url = await serviceUrl(client, namespace, app, '/');
        if (
          await getOnce(url).then(
            () => true,
            () => false,
          )
        ) {
          load = attack(url, 20, 900, { keepalive: false });
          return;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await started;
      return load ? summarize(await load.stop()) : 'no traffic: the live Service never appeared';
    },
  };
}

console.log('== 1. pull request: check workflow (build pr-42, gate, dry-run deploy)');
const liveBefore = (await client.get('v1', 'Service', namespaces.production, app))?.metadata.annotations?.[
  'deploy-suite.dev/live-digest'
];
const pr = await runAct(repo, {
  event: 'pull_request',
  workflow: 'pr.yml',
  payload: (await loadEvent('pull-request')).payload,
  vars,
  secrets,
  artifacts,
});
keep('pr', 'Pull request check', pr);
const liveAfterPr = (await client.get('v1', 'Service', namespaces.production, app))?.metadata.annotations?.[
  'deploy-suite.dev/live-digest'
];
console.log(
  `  registry: ${(await tags()).includes('pr-42') ? 'pr-42 pushed' : 'pr-42 MISSING'}; cluster: ${liveAfterPr === liveBefore ? 'unchanged' : 'CHANGED'}`,
);
if (liveAfterPr !== liveBefore) throw new Error('the pull-request check changed the live Service');

console.log(
  `\n== 2. push to the default branch: release workflow (build, SBOM + scan + sign, staging, production) of ${version}`,
);
const loads = Object.fromEntries(Object.entries(namespaces).map(([env, ns]) => [env, traffic(ns)]));
const release = await runAct(repo, {
  event: 'push',
  workflow: 'release.yml',
  payload: (await loadEvent('push-default-branch')).payload,
  vars,
  secrets,
  artifacts,
});
const trafficReports = Object.fromEntries(
  await Promise.all(Object.entries(loads).map(async ([env, load]) => [env, await load.stop()] as const)),
);
keep('release', 'Release', release);

summary.push('## Cluster state', '');
console.log('\n== state');
for (const [environment, namespace] of Object.entries(namespaces)) {
  const live = (await client.get('v1', 'Service', namespace, app))?.metadata.annotations ?? {};
  const history = await readHistory(client, namespace, app);
  const line = `${environment} (${namespace}): ${live['deploy-suite.dev/live-colour']} live, revision ${live['deploy-suite.dev/revision']}, ${live['deploy-suite.dev/live-digest']}`;
  // What the live Service answers now, on a new connection: the release, its mode, the pod's user id.
  const answer = await getOnce(await serviceUrl(client, namespace, app, '/version')).catch(
    (error: unknown) => `no answer: ${String(error)}`,
  );
  console.log(`  ${line}`);
  console.log(`    GET ${await serviceUrl(client, namespace, app, '/version')} → ${answer.trim()}`);
  console.log(`    traffic through the release: ${trafficReports[environment]}`);
  summary.push(
    `- ${line}`,
    `  - the live Service answers \`${answer.trim()}\``,
    `  - traffic through the release: ${trafficReports[environment]}`,
    ...history.slice(0, 3).map((h) => `  - revision ${h.revision}: ${h.action} ${h.colour} ${h.digest}`),
  );
}
const releaseTags = (await tags()).filter((t) => !t.startsWith('sha256-'));
console.log(`  registry: ${vars.IMAGE} tags ${releaseTags.join(', ')} (+ signature index)`);
summary.push('', `Registry tags: ${releaseTags.join(', ')}`, '');
writeFileSync(join(out, 'SUMMARY.md'), summary.join('\n'));
client.close();
await releases.close();

console.log(`\nDone in ${((performance.now() - started) / 1000).toFixed(0)} s. Where to look:`);
console.log(`  job summaries  ${join(out, 'SUMMARY.md')}`);
console.log(`  act logs       ${join(out, 'pr.log')}, ${join(out, 'release.log')}`);
console.log(`  SBOMs, SARIF   ${artifacts}/${readdirSync(artifacts).sort().slice(-1)[0] ?? ''}`);
console.log(`  user repo      ${repo} (the caller workflows: .github/workflows/)`);
console.log(
  `  cluster        kubectl --kubeconfig ${kubeconfigPath} -n ${namespaces.production} get deploy,svc,configmap`,
);
console.log(`  registry       curl -s http://${registry}/v2/${imageRepository}/tags/list`);
console.log(`  metrics        ${process.env.DEPLOY_SUITE_PROMETHEUS}/graph`);
console.log(
  `  rollback       the rollback button: see test/fixtures/workflows/rollback.yml (run by the tests under act)`,
);
