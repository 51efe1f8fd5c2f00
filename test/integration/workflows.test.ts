// The reusable workflows run for real under act, called from a scratch user repository
// (test/support/act-runner.ts). Outcomes are asserted from the registry and the cluster, and from act's
// job results, not from log text alone.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, parseKubeconfig, readHistory, type KubeClient } from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction } from '../support/action-runner.js';
import { commit, createUserRepo, RELEASED, runAct } from '../support/act-runner.js';
import { playRelease } from '../support/metrics.js';
import { listTags, manifestJson, registryHost, tagDigest } from '../support/registry-api.js';
import { startPlatformReleases } from '../support/releases-host.js';

const run = `w${randomBytes(3).toString('hex')}`;
const kubeconfigText = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const artifacts = mkdtempSync(join(tmpdir(), `${run}-artifacts-`));
let client: KubeClient;
let userRepo: string;
let releases: Awaited<ReturnType<typeof startPlatformReleases>>;

/** syft and trivy as sbom-and-sign installs them on a GitHub-hosted runner (see startPlatformReleases). */
const toolVars = () => releases.vars();

function act(
  event: string,
  workflow: string,
  payload: unknown,
  vars: Record<string, string>,
  secrets: Record<string, string>,
) {
  return runAct(userRepo, { event, workflow, payload, vars, secrets, artifacts });
}

beforeAll(async () => {
  client = createKubeClient(parseKubeconfig(kubeconfigText));
  userRepo = await createUserRepo(mkdtempSync(join(tmpdir(), `${run}-repo-`)));
  releases = await startPlatformReleases();
}, 120_000);

afterAll(async () => {
  client.close();
  await releases.close();
});

describe('the pull-request check workflow', () => {
  const namespace = `${run}-pr`;
  const image = `${registryHost()}/${run}/shop`;

  beforeAll(async () => {
    await client.apply(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
      { fieldManager: 'test' },
    );
  });
  afterAll(async () => {
    await client.delete('v1', 'Namespace', undefined, namespace);
  });

  it('builds and pushes only pr-<n>, passes the gate, shows the deploy as a dry run, and changes nothing in the cluster', async () => {
    const event = await loadEvent('pull-request');
    const result = await act(
      'pull_request',
      'pr.yml',
      event.payload,
      { IMAGE: image, NAMESPACE: namespace, TRIVY_CACHE_DIR: process.env.DEPLOY_SUITE_TRIVY_CACHE!, ...toolVars() },
      {
        KUBECONFIG: Buffer.from(kubeconfigText).toString('base64'),
        REGISTRY_USERNAME: 'nobody',
        REGISTRY_PASSWORD: 'unused-password',
      },
    );
    expect(result.jobs).toEqual({ 'check/pr-check/check': 'success' });
    // Neither tool came from PATH: both were downloaded as releases and checked before they ran.
    expect(result.log).toContain(`syft 1.57.1: syft_1.57.1_linux_amd64.tar.gz is checked against syft-sha256`);
    expect(result.log).toMatch(/trivy 0\.74\.0 (installed|from the tool cache) \(sha256 [0-9a-f]{64}/);
    expect(result.code).toBe(0);
    expect(result.summaries.map((s) => s.content).join('\n')).toMatch(/Deployment shop-blue/);
    // The registry holds the pull request's tag and no release tag.
    expect(await listTags(`${run}/shop`)).toEqual(['pr-42']);
    // The cluster: nothing was created by the dry run.
    expect(await client.get('apps/v1', 'Deployment', namespace, 'shop-blue')).toBeUndefined();
    expect(await client.get('v1', 'Service', namespace, 'shop')).toBeUndefined();
    expect(result.log).toMatch(/create +Deployment shop-blue/);
    expect(result.log).not.toContain('unused-password');
  }, 300_000);
});

describe('the release workflow, then a bad version, then the rollback button', () => {
  const staging = `${run}-staging`;
  const production = `${run}-production`;
  const image = `${registryHost()}/${run}/release`;
  const cosignKey = readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.key'), 'utf8');
  const vars = () => ({
    IMAGE: image,
    NAMESPACE: production,
    STAGING_NAMESPACE: staging,
    TRIVY_CACHE_DIR: process.env.DEPLOY_SUITE_TRIVY_CACHE!,
    PROMETHEUS_URL: process.env.DEPLOY_SUITE_PROMETHEUS!,
    ...toolVars(),
  });
  const secrets = () => ({
    KUBECONFIG: Buffer.from(kubeconfigText).toString('base64'),
    REGISTRY_USERNAME: 'nobody',
    REGISTRY_PASSWORD: 'unused-password',
    // A dotenv value: the PEM's newlines as \n inside double quotes.
    COSIGN_PRIVATE_KEY: `"${cosignKey.trim().replace(/\n/g, '\\n')}"`,
    COSIGN_PASSWORD: 'fixture-password',
  });
  const liveOf = async (namespace: string) =>
    (await client.get('v1', 'Service', namespace, 'shop'))?.metadata.annotations ?? {};
  let first = '';

  beforeAll(async () => {
    for (const name of [staging, production])
      await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'test' });
    // What Prometheus sees of the app: blue (the first release's colour) healthy, in both environments.
    for (const name of [staging, production])
      await playRelease(name, 'shop', 'blue', { rps: 40, errorRate: 0, latencySeconds: 0.02 });
  });
  afterAll(async () => {
    for (const name of [staging, production]) await client.delete('v1', 'Namespace', undefined, name);
  });

  it('a good version: built, scanned, signed with the key from secrets, SBOM uploaded, analysed, live in staging then production', async () => {
    const event = await loadEvent('push-default-branch');
    const result = await act('push', 'release.yml', event.payload, vars(), secrets());
    expect(result.jobs).toMatchObject(RELEASED);
    expect(result.code).toBe(0);
    // The registry: the release tags, and the signature's tag index next to the digest.
    const tags = await listTags(`${run}/release`);
    expect(tags).toEqual(expect.arrayContaining(['trunk', 'latest']));
    const indexTag = tags.find((t) => t.startsWith('sha256-'));
    expect(indexTag).toBeDefined();
    first = indexTag!.replace('sha256-', 'sha256:');
    // The cluster: the same digest live in both environments, its signature checked on the way in.
    for (const namespace of [staging, production]) {
      expect(await liveOf(namespace)).toMatchObject({
        'deploy-suite.dev/live-colour': 'blue',
        'deploy-suite.dev/live-digest': first,
        'deploy-suite.dev/revision': '1',
      });
    }
    expect(result.log.match(/signature verified for \S+: key /g)).toHaveLength(2);
    expect(result.log).toMatch(/error-rate 2\/2: ok/);
    // The SBOM artifact, named after the image and digest.
    const artifact = readdirSync(artifacts).find((name) => name === `sbom-${run}-release-${first.slice(7, 19)}`);
    expect(artifact).toBeDefined();
    expect(readdirSync(join(artifacts, artifact!))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/\.spdx\.json$/),
        expect.stringMatching(/\.cyclonedx\.json$/),
        expect.stringMatching(/\.sarif$/),
      ]),
    );
    for (const secret of ['unused-password', 'fixture-password', cosignKey.split('\n')[1]!])
      expect(result.log).not.toContain(secret);
  }, 400_000);

  it('a bad version: its analysis in staging fails, staging switches back by itself, production never sees it', async () => {
    // A new commit makes a new image; Prometheus will see its colour (green) answer 40 % errors.
    await commit(userRepo, 'v2', { 'app/CHANGES': 'v2\n' });
    await playRelease(staging, 'shop', 'green', { rps: 40, errorRate: 0.4, latencySeconds: 0.02 });
    const event = await loadEvent('push-default-branch');
    const result = await act('push', 'release.yml', event.payload, vars(), secrets());
    expect(result.code).not.toBe(0);
    expect(result.jobs).toMatchObject({ 'release/release/staging': 'failure' });
    expect(result.log).toMatch(
      /\[release\/release\/staging\] +❌ +Failure - Main acme\/deploy-suite\/actions\/verify-rollback@v1/,
    );
    expect(result.log).not.toMatch(
      /\[release\/release\/production\] .*Main acme\/deploy-suite\/actions\/bluegreen-deploy/,
    );
    const stagingState = await liveOf(staging);
    expect(stagingState).toMatchObject({
      'deploy-suite.dev/live-colour': 'blue',
      'deploy-suite.dev/live-digest': first,
      'deploy-suite.dev/previous-colour': 'green',
      'deploy-suite.dev/revision': '3',
    });
    // Each release's analysis is in the history too (the KPIs read it): the good one's, then the bad one's.
    expect((await readHistory(client, staging, 'shop')).map((h) => h.action)).toEqual([
      'rollback',
      'analysis',
      'deploy',
      'analysis',
      'deploy',
    ]);
    expect(await liveOf(production)).toMatchObject({
      'deploy-suite.dev/live-digest': first,
      'deploy-suite.dev/revision': '1',
    });
  }, 400_000);

  it('the rollback button (workflow_dispatch): staging back to the revision a person names', async () => {
    const result = await act(
      'workflow_dispatch',
      'rollback.yml',
      { inputs: { environment: 'staging', namespace: staging, 'rollback-to': '2' } },
      {},
      { KUBECONFIG: Buffer.from(kubeconfigText).toString('base64') },
    );
    expect(Object.values(result.jobs)).toEqual(['success']);
    expect(result.code).toBe(0);
    const state = await liveOf(staging);
    expect(state).toMatchObject({ 'deploy-suite.dev/live-colour': 'green', 'deploy-suite.dev/revision': '4' });
    expect(state['deploy-suite.dev/live-digest']).not.toBe(first);
    expect((await readHistory(client, staging, 'shop'))[0]).toMatchObject({
      revision: 4,
      action: 'rollback',
      colour: 'green',
    });
  }, 300_000);

  it('the promote button (workflow_dispatch): a release held in staging goes live once a person presses it, signature checked', async () => {
    const hold = await runAction(
      'bluegreen-deploy',
      {
        kubeconfig: Buffer.from(kubeconfigText).toString('base64'),
        namespace: staging,
        app: 'shop',
        image: `${image}@${first}`,
        promote: 'false',
      },
      await loadEvent('push-default-branch'),
    );
    expect(hold.outputs).toMatchObject({ held: 'true', 'held-colour': 'blue', 'held-revision': '5' });
    expect(await liveOf(staging)).toMatchObject({
      'deploy-suite.dev/live-colour': 'green',
      'deploy-suite.dev/revision': '4',
    });
    const result = await act(
      'workflow_dispatch',
      'promote.yml',
      { inputs: { environment: 'staging', namespace: staging, image: first } },
      {},
      { KUBECONFIG: Buffer.from(kubeconfigText).toString('base64') },
    );
    expect(Object.values(result.jobs)).toEqual(['success']);
    expect(result.code).toBe(0);
    expect(result.log).toMatch(/signature verified for \S+: key /);
    expect(await liveOf(staging)).toMatchObject({
      'deploy-suite.dev/live-colour': 'blue',
      'deploy-suite.dev/live-digest': first,
      'deploy-suite.dev/revision': '5',
    });
    const preview = await client.get('v1', 'Service', staging, 'shop-preview');
    expect(preview?.metadata.annotations?.['deploy-suite.dev/held']).toBeUndefined();
  }, 300_000);
});

describe('the release workflow on native per-arch runners (platform-runners)', () => {
  const staging = `${run}-arch-staging`;
  const production = `${run}-arch-production`;
  const image = `${registryHost()}/${run}/arch`;
  const cosignKey = readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.key'), 'utf8');
  let repo: string;

  beforeAll(async () => {
    for (const name of [staging, production])
      await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'test' });
    repo = await createUserRepo(mkdtempSync(join(tmpdir(), `${run}-arch-repo-`)));
    // The app on a base the current BuildKit pulls from the registry, for both platforms.
    const dockerfile = readFileSync(join(repo, 'app/Dockerfile'), 'utf8').replace(
      /^ARG BASE=.*$/m,
      `ARG BASE=${process.env.DEPLOY_SUITE_MULTI_BASE_IMAGE}`,
    );
    await commit(repo, 'multi-platform base', { 'app/Dockerfile': dockerfile });
  });
  afterAll(async () => {
    for (const name of [staging, production]) await client.delete('v1', 'Namespace', undefined, name);
  });

  it('each platform built on its runner and pushed by digest, merged into one index, signed per platform, deployed', async () => {
    const event = await loadEvent('push-default-branch');
    // Artifacts are per run on GitHub: this run's own folder, so the merge sees its digests only.
    const runArtifacts = mkdtempSync(join(tmpdir(), `${run}-arch-artifacts-`));
    const result = await runAct(repo, {
      event: 'push',
      workflow: 'release.yml',
      payload: event.payload,
      artifacts: runArtifacts,
      vars: {
        IMAGE: image,
        NAMESPACE: production,
        STAGING_NAMESPACE: staging,
        TRIVY_CACHE_DIR: process.env.DEPLOY_SUITE_TRIVY_CACHE!,
        PLATFORM_RUNNERS: JSON.stringify([
          { platform: 'linux/amd64', 'runs-on': 'ubuntu-latest' },
          { platform: 'linux/arm64', 'runs-on': 'ubuntu-latest' },
        ]),
        ...toolVars(),
      },
      secrets: {
        KUBECONFIG: Buffer.from(kubeconfigText).toString('base64'),
        REGISTRY_USERNAME: 'nobody',
        REGISTRY_PASSWORD: 'unused-password',
        COSIGN_PRIVATE_KEY: `"${cosignKey.trim().replace(/\n/g, '\\n')}"`,
        COSIGN_PASSWORD: 'fixture-password',
      },
    });
    expect(result.jobs).toMatchObject(RELEASED);
    expect(Object.entries(result.jobs).filter(([job]) => job.includes('build-platform'))).toHaveLength(2);
    expect(Object.entries(result.jobs).every(([, outcome]) => outcome === 'success')).toBe(true);
    expect(result.code).toBe(0);
    // Each platform job pushed by digest only; one digest artifact each, merged by the build job.
    expect(
      readdirSync(runArtifacts)
        .filter((n) => n.startsWith('digest-'))
        .sort(),
    ).toEqual(['digest-linux-amd64', 'digest-linux-arm64']);
    expect(result.log.match(/pushed by digest only/g)?.length).toBeGreaterThanOrEqual(2);
    // The tags name one index of both platforms (and their provenance).
    const digest = await tagDigest(`${run}/arch`, 'trunk');
    const index = await manifestJson<{ manifests: { platform?: { architecture: string } }[] }>(`${run}/arch`, digest!);
    expect(index.manifests.map((m) => m.platform?.architecture).sort()).toEqual([
      'amd64',
      'arm64',
      'unknown',
      'unknown',
    ]);
    expect(await tagDigest(`${run}/arch`, 'latest')).toBe(digest);
    // Signed per platform, and each deploy held every platform to the key (verify-platforms).
    // The merge keeps the order of the digests it was given (the artifacts': by digest), any order.
    expect(result.log).toMatch(
      /is an index of 2 platform\(s\): linux\/(amd64|arm64) sha256:[0-9a-f]{64}, linux\/(amd64|arm64)/,
    );
    expect(
      result.log.match(
        /platform signatures verified for \S+: (linux\/amd64, linux\/arm64|linux\/arm64, linux\/amd64)/g,
      ),
    ).toHaveLength(2);
    for (const namespace of [staging, production]) {
      expect((await client.get('v1', 'Service', namespace, 'shop'))?.metadata.annotations).toMatchObject({
        'deploy-suite.dev/live-digest': digest,
      });
    }
  }, 600_000);
});
