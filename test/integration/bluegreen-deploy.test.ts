// bluegreen-deploy, bundled, run as the runner runs it, against the real control plane: colours flip,
// re-runs converge, a stuck rollout leaves live traffic alone, the lock serialises deploys, a tag is
// refused, and a sampler reading the live Service every 50 ms never sees it without ready endpoints.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createKubeClient,
  parseKubeconfig,
  readHistory,
  readyEndpoints,
  scaleDownPrevious,
  waitForReadyEndpoints,
  type KubeClient,
  type KubeObject,
} from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction, type ActionRun } from '../support/action-runner.js';
import { startGitHubApi } from '../support/github-api-double.js';
import { freshImage, freshIndex } from '../support/registry-api.js';
import { RegistryClient, parseReference } from '@deploy-suite/oci';
import {
  PREDICATE_TYPES,
  attachBundle,
  imageStatement,
  keySigning,
  openCosignPrivateKey,
  signStatement,
} from '@deploy-suite/supply-chain';

const namespace = `bg-${randomBytes(3).toString('hex')}`;
const kubeconfigText = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const kubeconfig = Buffer.from(kubeconfigText).toString('base64');
// digest(3) is sha256:333…; from 10 on, the number in hex padded with e (never a repeat of a smaller one).
const digest = (n: number) =>
  `127.0.0.1:5000/shop/api@sha256:${n < 10 ? String(n).repeat(64) : n.toString(16).padStart(64, 'e')}`;
let client: KubeClient;

async function deploy(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction(
    'bluegreen-deploy',
    { kubeconfig, namespace, app: 'shop', replicas: '3', ...inputs },
    await loadEvent('push-default-branch'),
  );
}

async function liveSelector(app = 'shop'): Promise<string | undefined> {
  const service = await client.get<KubeObject & { spec: { selector: Record<string, string> } }>(
    'v1',
    'Service',
    namespace,
    app,
  );
  return service?.spec.selector['deploy-suite.dev/colour'];
}

const previewSelector = (app = 'shop') => liveSelector(`${app}-preview`);

/** Reads the live Service's ready endpoints every 50 ms until stopped; returns the smallest count seen. */
function sampleLive(app: string): { stop: () => Promise<{ min: number; samples: number }> } {
  let running = true;
  let min = Number.POSITIVE_INFINITY;
  let samples = 0;
  const loop = (async () => {
    while (running) {
      min = Math.min(min, await readyEndpoints(client, namespace, app));
      samples++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { min, samples };
    },
  };
}

beforeAll(async () => {
  client = createKubeClient(parseKubeconfig(kubeconfigText));
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: 'test' });
});

afterAll(async () => {
  await client.delete('v1', 'Namespace', undefined, namespace);
  client.close();
});

describe('bluegreen-deploy on the local control plane', () => {
  // From the first switch on, the live Service is sampled every 50 ms through every test of this block
  // (flips, a stuck rollout, kills at each phase, concurrent deploys, dry runs): never without ready endpoints.
  let whole: ReturnType<typeof sampleLive> | undefined;
  afterAll(async () => {
    const seen = await whole?.stop();
    expect(seen?.samples).toBeGreaterThan(100);
    expect(seen?.min).toBeGreaterThan(0);
  });

  it('first deploy into an empty namespace goes live on blue', async () => {
    const run = await deploy({ image: digest(1) });
    expect(run.exitCode).toBe(0);
    whole = sampleLive('shop');
    expect(run.outputs).toMatchObject({
      'live-colour': 'blue',
      'previous-colour': '',
      revision: '1',
      digest: `sha256:${'1'.repeat(64)}`,
      noop: 'false',
    });
    expect(await liveSelector()).toBe('blue');
    expect(await readyEndpoints(client, namespace, 'shop')).toBe(3);
    expect(Object.keys(JSON.parse(run.outputs.timings!))).toEqual([
      'pod-security',
      'lock',
      'read',
      'apply',
      'rollout',
      'preview',
      'switch',
      'record',
    ]);
    expect(run.summary).toContain('live on blue');
  });

  it('second deploy flips to green and keeps blue warm; the live Service never loses its endpoints', async () => {
    const sampler = sampleLive('shop');
    const run = await deploy({ image: digest(2) });
    const seen = await sampler.stop();
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      'live-colour': 'green',
      'previous-colour': 'blue',
      revision: '2',
      'previous-digest': `sha256:${'1'.repeat(64)}`,
    });
    expect(await liveSelector()).toBe('green');
    const blue = await client.get<KubeObject & { status: { availableReplicas: number } }>(
      'apps/v1',
      'Deployment',
      namespace,
      'shop-blue',
    );
    expect(blue?.status.availableReplicas).toBe(3);
    // Sampled through the whole run (it is short: ~0.2 s), a read at least every 100 ms.
    expect(seen.samples).toBeGreaterThanOrEqual(Math.max(2, Math.floor(run.seconds / 0.1)));
    expect(seen.min).toBeGreaterThan(0);
  });

  it('third deploy flips back to blue; history records every revision, newest first', async () => {
    const sampler = sampleLive('shop');
    const run = await deploy({ image: digest(3) });
    const seen = await sampler.stop();
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ 'live-colour': 'blue', 'previous-colour': 'green', revision: '3' });
    expect(seen.min).toBeGreaterThan(0);
    const history = await readHistory(client, namespace, 'shop');
    expect(history.map((h) => [h.revision, h.colour])).toEqual([
      [3, 'blue'],
      [2, 'green'],
      [1, 'blue'],
    ]);
  });

  it('a re-run of the live digest changes nothing', async () => {
    const before = await client.get('apps/v1', 'Deployment', namespace, 'shop-blue');
    const run = await deploy({ image: digest(3) });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ noop: 'true', 'live-colour': 'blue', revision: '3' });
    const after = await client.get('apps/v1', 'Deployment', namespace, 'shop-blue');
    expect(after?.metadata.generation).toBe(before?.metadata.generation);
    expect(run.summary).toContain('already live');
  });

  it('a rollout that never becomes ready fails at the progress deadline, and live traffic stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-template-'));
    const template = join(dir, 'deployment.yaml');
    writeFileSync(
      template,
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: shop}',
        'spec:',
        '  template:',
        '    metadata:',
        '      labels: {deploy-suite.test/hold-not-ready: "true"}',
        '    spec:',
        '      containers:',
        '      - name: api',
        '        image: placeholder',
      ].join('\n'),
    );
    const sampler = sampleLive('shop');
    const run = await deploy({ image: digest(4), 'deployment-template': template, 'progress-deadline': '3s' });
    const seen = await sampler.stop();
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(
      /::error::rollout: shop-green the rollout exceeded its progress deadline.*live traffic stays on blue/,
    );
    expect(await liveSelector()).toBe('blue');
    expect(await previewSelector()).toBe('green'); // parked during the rollout, shown again on failure
    expect(seen.min).toBe(3);
    const service = await client.get('v1', 'Service', namespace, 'shop');
    expect(service?.metadata.annotations?.['deploy-suite.dev/revision']).toBe('3');
    expect(await client.get('coordination.k8s.io/v1', 'Lease', namespace, 'shop-deploy')).toBeUndefined();
  }, 120_000);

  it('a deploy after the failed one converges: green rolls out and goes live', async () => {
    const run = await deploy({ image: digest(5) });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ 'live-colour': 'green', revision: '4', 'previous-colour': 'blue' });
  });

  it('waits for the lock another deploy holds, then fails clearly, with the state intact', async () => {
    await client.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, {
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'shop-deploy' },
        spec: {
          holderIdentity: 'acme/shop-api/actions/runs/999',
          leaseDurationSeconds: 600,
          renewTime: new Date().toISOString().replace('Z', '000Z'),
        },
      },
    });
    try {
      const run = await deploy({ image: digest(6), 'lock-timeout': '2s' });
      expect(run.exitCode).toBe(1);
      expect(run.log).toContain('waiting for the deploy lock of shop, held by acme/shop-api/actions/runs/999');
      expect(run.log).toMatch(
        /::error::lock: another deploy or rollback of shop holds the lock \(acme\/shop-api\/actions\/runs\/999\)/,
      );
      expect(await liveSelector()).toBe('green');
    } finally {
      await client.delete('coordination.k8s.io/v1', 'Lease', namespace, 'shop-deploy');
    }
  });

  it("two deploys at once: one waits for the other's lock, both land in order, history stays consistent", async () => {
    const start = Number(
      (await client.get('v1', 'Service', namespace, 'shop'))?.metadata.annotations?.['deploy-suite.dev/revision'],
    );
    const event = await loadEvent('push-default-branch');
    // The first brings up 300 replicas, so the second surely arrives while it holds the lock.
    const first = runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'shop', replicas: '300', image: digest(40) },
      event,
      { GITHUB_RUN_ID: '4001' },
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'shop', replicas: '3', image: digest(41), 'lock-timeout': '2m' },
      event,
      { GITHUB_RUN_ID: '4002' },
    );
    const [a, b] = await Promise.all([first, second]);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    expect(b.log).toContain('waiting for the deploy lock of shop, held by acme/shop-api/actions/runs/4001');
    expect(Number(a.outputs.revision)).toBe(start + 1);
    expect(Number(b.outputs.revision)).toBe(start + 2);
    expect(b.outputs['previous-digest']).toBe(a.outputs.digest);
    const history = await readHistory(client, namespace, 'shop');
    expect(history.slice(0, 2).map((h) => h.revision)).toEqual([start + 2, start + 1]);
    expect(await liveSelector()).toBe(b.outputs['live-colour']);
  });

  it('dry-run shows what would change and changes nothing', async () => {
    const live = await client.get('v1', 'Service', namespace, 'shop');
    const revision = Number(live?.metadata.annotations?.['deploy-suite.dev/revision']);
    const idle = live?.metadata.annotations?.['deploy-suite.dev/live-colour'] === 'green' ? 'blue' : 'green';
    const idleBefore = await client.get<
      KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } }
    >('apps/v1', 'Deployment', namespace, `shop-${idle}`);
    const run = await deploy({ image: digest(7), 'dry-run': 'true' });
    expect(run.exitCode).toBe(0);
    expect(run.summary).toContain(`dry run: shop → ${idle}, revision ${revision + 1}`);
    expect(run.summary).toContain(`Deployment shop-${idle}</td><td>update`);
    expect(run.summary).toContain(`sha256:${'7'.repeat(64)}`);
    expect(await liveSelector()).toBe(idle === 'blue' ? 'green' : 'blue');
    const idleAfter = await client.get<
      KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } }
    >('apps/v1', 'Deployment', namespace, `shop-${idle}`);
    expect(idleAfter?.spec.template.spec.containers[0]!.image).toBe(
      idleBefore?.spec.template.spec.containers[0]!.image,
    );
    expect(idleAfter?.metadata.generation).toBe(idleBefore?.metadata.generation);
  });

  it('refuses a tag, and a bad kubeconfig, before touching the cluster', async () => {
    const tagged = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'tagged', image: '127.0.0.1:5000/shop/api:latest' },
      await loadEvent('push-default-branch'),
    );
    expect(tagged.exitCode).toBe(1);
    expect(tagged.log).toMatch(/title=input 'image'::.*names a tag, not a digest/);
    expect(await client.get('apps/v1', 'Deployment', namespace, 'tagged-blue')).toBeUndefined();
    const badConfig = await runAction(
      'bluegreen-deploy',
      { kubeconfig: 'not a kubeconfig', namespace, app: 'x', image: digest(1) },
      await loadEvent('push-default-branch'),
    );
    expect(badConfig.exitCode).toBe(1);
    expect(badConfig.log).toContain("title=input 'kubeconfig'");
  });

  it.each(['lock', 'read', 'apply', 'rollout', 'preview', 'switch', 'record'])(
    'killed in the %s phase, a re-run converges',
    async (phase) => {
      const before = await client.get('v1', 'Service', namespace, 'shop');
      const revision = Number(before?.metadata.annotations?.['deploy-suite.dev/revision']);
      const image = digest(10 + revision);
      const killed = await runAction(
        'bluegreen-deploy',
        { kubeconfig, namespace, app: 'shop', replicas: '3', image },
        await loadEvent('push-default-branch'),
        {},
        { killWhenLogShows: `::group::${phase}` },
      );
      expect(killed.exitCode).not.toBe(0);
      // Live traffic is never without endpoints, whatever the phase the run died in.
      expect(await readyEndpoints(client, namespace, 'shop')).toBe(3);
      // While the colour rolls out, the preview selects no pod (its endpoints are not tracked pod by pod).
      if (phase === 'rollout') expect(await previewSelector()).toBe('none');
      const rerun = await deploy({ image });
      expect(rerun.exitCode).toBe(0);
      expect(rerun.outputs.digest).toBe(image.slice(image.indexOf('@') + 1));
      expect(Number(rerun.outputs.revision)).toBe(revision + 1);
      const live = await liveSelector();
      expect(live).toBe(rerun.outputs['live-colour']);
      expect(await previewSelector()).toBe(rerun.outputs['previous-colour']);
      const history = await readHistory(client, namespace, 'shop');
      expect(history.filter((h) => h.revision === revision + 1)).toHaveLength(1);
      expect(history[0]!.digest).toBe(rerun.outputs.digest);
    },
  );

  it('records a GitHub deployment: created, in_progress, then success with the environment URL', async () => {
    const api = await startGitHubApi({
      'POST /repos/acme/shop-api/deployments': {
        id: 9001,
        url: 'https://api.github.com/repos/acme/shop-api/deployments/9001',
        sha: '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
        ref: '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
        environment: 'production',
      },
      'POST /repos/acme/shop-api/deployments/9001/statuses': { id: 1, state: 'success' },
    });
    try {
      const env = { GITHUB_API_URL: api.url };
      const ok = await runAction(
        'bluegreen-deploy',
        {
          kubeconfig,
          namespace,
          app: 'web',
          replicas: '2',
          image: digest(8),
          environment: 'production',
          'environment-url': 'https://shop.example.com',
          'github-token': 'ghs_deploytoken123',
        },
        await loadEvent('push-default-branch'),
        env,
      );
      expect(ok.exitCode).toBe(0);
      expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /repos/acme/shop-api/deployments',
        'POST /repos/acme/shop-api/deployments/9001/statuses',
        'POST /repos/acme/shop-api/deployments/9001/statuses',
      ]);
      expect(api.requests[0]!.body).toMatchObject({
        ref: '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
        environment: 'production',
        required_contexts: [],
        auto_merge: false,
        payload: { app: 'web', namespace, image: digest(8) },
      });
      expect(api.requests[0]!.authorization).toBe('Bearer ghs_deploytoken123');
      expect(api.requests[1]!.body).toMatchObject({
        state: 'in_progress',
        log_url: 'https://github.com/acme/shop-api/actions/runs/1001',
      });
      expect(api.requests[2]!.body).toMatchObject({ state: 'success', environment_url: 'https://shop.example.com' });
      // A failed rollout marks the deployment failed.
      api.requests.length = 0;
      const template = join(mkdtempSync(join(tmpdir(), 'bg-hold-')), 'd.yaml');
      writeFileSync(
        template,
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {metadata: {labels: {deploy-suite.test/hold-not-ready: "true"}}, spec: {containers: [{name: web, image: x}]}}}\n',
      );
      const failed = await runAction(
        'bluegreen-deploy',
        {
          kubeconfig,
          namespace,
          app: 'web',
          replicas: '2',
          image: digest(9),
          environment: 'production',
          'deployment-template': template,
          'progress-deadline': '2s',
        },
        await loadEvent('push-default-branch'),
        env,
      );
      expect(failed.exitCode).toBe(1);
      expect(api.requests.map((r) => (r.body as { state?: string } | undefined)?.state)).toEqual([
        undefined,
        'in_progress',
        'failure',
      ]);
    } finally {
      await api.close();
    }
  }, 120_000);

  it('a GitHub API that refuses the deployment warns, and the deploy still happens', async () => {
    const api = await startGitHubApi({});
    try {
      const run = await runAction(
        'bluegreen-deploy',
        { kubeconfig, namespace, app: 'web', replicas: '2', image: digest(7), environment: 'staging' },
        await loadEvent('push-default-branch'),
        { GITHUB_API_URL: api.url },
      );
      expect(run.exitCode).toBe(0);
      expect(run.log).toMatch(
        /::warning::could not create a GitHub deployment for environment staging .*deployments: write/,
      );
    } finally {
      await api.close();
    }
  });

  it('masks the kubeconfig and its key material', async () => {
    const run = await deploy({ image: digest(5) });
    const key = parseKubeconfig(kubeconfigText).secrets.find((secret) => secret.includes('PRIVATE KEY'))!;
    const keyLine = key.split('\n')[1]!;
    expect(run.log).toContain(`::add-mask::${keyLine}`);
    const visible = run.log
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n');
    expect(visible).not.toContain(keyLine);
    expect(visible).not.toContain(kubeconfig.slice(0, 40));
  });
});

describe('signature policy', () => {
  const fixtures = new URL('../fixtures/cosign/', import.meta.url);
  const publicKey = readFileSync(new URL('cosign.pub', fixtures), 'utf8');
  const repository = `${namespace}/signed`;

  async function signWith(keyFile: string, password: string, image: string): Promise<void> {
    const key = await openCosignPrivateKey(readFileSync(new URL(keyFile, fixtures), 'utf8'), password);
    const ref = parseReference(image);
    const bundle = await signStatement(imageStatement(ref.digest!, PREDICATE_TYPES.signature, {}), keySigning(key));
    await attachBundle(new RegistryClient(), ref, bundle, PREDICATE_TYPES.signature);
  }

  it('deploys an image signed by the key, and says so in the summary', async () => {
    const image = await freshImage(repository, `${namespace}-good`);
    await signWith('cosign.key', 'fixture-password', image);
    const run = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'signed', replicas: '2', image, 'verify-key': publicKey },
      await loadEvent('push-default-branch'),
    );
    expect(run.log).toMatch(/signature verified for .*@sha256:[0-9a-f]{64}: key /);
    expect(run.exitCode).toBe(0);
    expect(run.outputs['live-colour']).toBe('blue');
    expect(run.summary).toMatch(/verified: .*@sha256:[0-9a-f]{64}: key /);
    expect(JSON.parse(run.outputs.timings!)).toHaveProperty('verify');
  });

  it.each([
    [
      'unsigned',
      async (image: string) => image,
      /has no valid signature by key .*: no Sigstore bundle is attached to sha256:/,
    ],
    [
      'signed with another key',
      async (image: string) => (await signWith('other.key', 'other-password', image), image),
      /has no valid signature by key .*signature does not verify/,
    ],
  ])('refuses an image %s before anything is applied', async (name, prepare, message) => {
    const image = await prepare(await freshImage(repository, `${namespace}-${name}`));
    const live = await client.get('v1', 'Service', namespace, 'signed');
    const idleBefore = await client.get('apps/v1', 'Deployment', namespace, 'signed-green');
    const run = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'signed', replicas: '2', image, 'verify-key': 'test/fixtures/cosign/cosign.pub' },
      await loadEvent('push-default-branch'),
    );
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(message);
    expect(run.log).toMatch(/Nothing was applied\. Fix: sign the digest with sbom-and-sign/);
    // Nothing changed: the live Service and the idle colour are as they were, no lease was taken.
    expect((await client.get('v1', 'Service', namespace, 'signed'))?.metadata.resourceVersion).toBe(
      live?.metadata.resourceVersion,
    );
    expect(await client.get('apps/v1', 'Deployment', namespace, 'signed-green')).toEqual(idleBefore);
    expect(await client.get('coordination.k8s.io/v1', 'Lease', namespace, 'signed-deploy')).toBeUndefined();
  });

  it('verifies every image of the pod spec: a sidecar by tag or unsigned is refused, unless verify-all-images is false', async () => {
    const image = await freshImage(repository, `${namespace}-app`);
    await signWith('cosign.key', 'fixture-password', image);
    const unsignedSidecar = await freshImage(`${namespace}/sidecar`, `${namespace}-sidecar`);
    const dir = mkdtempSync(join(tmpdir(), 'sidecar-'));
    const template = (sidecar: string) => {
      const path = join(dir, `${sidecar.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(
        path,
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n        - {name: app, image: placeholder}\n        - {name: proxy, image: "${sidecar}"}\n      initContainers:\n        - {name: init, image: "${image}"}\n`,
      );
      return path;
    };
    const deployWith = async (sidecar: string, extra: Record<string, string> = {}) =>
      runAction(
        'bluegreen-deploy',
        {
          kubeconfig,
          namespace,
          app: 'sidecars',
          replicas: '1',
          image,
          'verify-key': publicKey,
          'deployment-template': template(sidecar),
          ...extra,
        },
        await loadEvent('push-default-branch'),
      );
    const byTag = await deployWith('127.0.0.1:5000/mesh/proxy:latest');
    expect(byTag.exitCode).toBe(1);
    expect(byTag.log).toMatch(
      /::error::verify: 127\.0\.0\.1:5000\/mesh\/proxy:latest is named by tag, not by digest.*Nothing was applied\. Fix: pin it as name@sha256/,
    );
    const unsigned = await deployWith(unsignedSidecar);
    expect(unsigned.exitCode).toBe(1);
    expect(unsigned.log).toMatch(/sidecar@sha256:[0-9a-f]{64} has no valid signature by key/);
    expect(await client.get('apps/v1', 'Deployment', namespace, 'sidecars-blue')).toBeUndefined();
    // The app's image alone, on purpose: the sidecar goes unverified.
    const appOnly = await deployWith(unsignedSidecar, { 'verify-all-images': 'false' });
    expect(appOnly.log).not.toMatch(/::error/);
    expect(appOnly.exitCode).toBe(0);
    const deployed = await client.get<
      KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } }
    >('apps/v1', 'Deployment', namespace, 'sidecars-blue');
    expect(deployed?.spec.template.spec.containers.map((c) => c.image)).toEqual([image, unsignedSidecar]);
  });

  it('an index: its signature suffices by default; verify-platforms refuses unsigned platforms, then deploys once all are signed', async () => {
    const { index, platforms } = await freshIndex(`${namespace}/multi`, `${namespace}-multi`);
    await signWith('cosign.key', 'fixture-password', index);
    const deployIndex = async (extra: Record<string, string>) =>
      runAction(
        'bluegreen-deploy',
        { kubeconfig, namespace, app: 'multi', replicas: '1', image: index, 'verify-key': publicKey, ...extra },
        await loadEvent('push-default-branch'),
      );
    const strict = await deployIndex({ 'verify-platforms': 'true' });
    expect(strict.exitCode).toBe(1);
    expect(strict.log).toMatch(
      new RegExp(
        `is an index whose linux/amd64 manifest ${platforms[0]!.image.split('@')[1]} has no valid signature by key .*no Sigstore bundle is attached.*Nothing was applied\\. Fix: sign every platform`,
      ),
    );
    expect(await client.get('apps/v1', 'Deployment', namespace, 'multi-blue')).toBeUndefined();
    // One platform signed is not enough: the other is named.
    await signWith('cosign.key', 'fixture-password', platforms[0]!.image);
    const half = await deployIndex({ 'verify-platforms': 'true' });
    expect(half.exitCode).toBe(1);
    expect(half.log).toMatch(/is an index whose linux\/arm64 manifest sha256:[0-9a-f]{64} has no valid signature/);
    // A platform signed by another key does not count either.
    await signWith('other.key', 'other-password', platforms[1]!.image);
    expect((await deployIndex({ 'verify-platforms': 'true' })).log).toMatch(
      /linux\/arm64 manifest sha256:[0-9a-f]{64} has no valid signature by key .*signature does not verify/,
    );
    await signWith('cosign.key', 'fixture-password', platforms[1]!.image);
    const signed = await deployIndex({ 'verify-platforms': 'true' });
    expect(signed.log).not.toMatch(/::error/);
    expect(signed.exitCode).toBe(0);
    expect(signed.log).toMatch(/platform signatures verified for .*@sha256:[0-9a-f]{64}: linux\/amd64, linux\/arm64/);
    // Without verify-platforms the index signature alone is the policy (it pins the platforms by digest).
    const { index: other } = await freshIndex(`${namespace}/multi`, `${namespace}-multi-2`);
    await signWith('cosign.key', 'fixture-password', other);
    const lenient = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'multi-lenient', replicas: '1', image: other, 'verify-key': publicKey },
      await loadEvent('push-default-branch'),
    );
    expect(lenient.exitCode).toBe(0);
    expect(lenient.log).not.toContain('platform signatures verified');
  });

  it('refuses a private key given as verify-key, and a half keyless policy, as input errors', async () => {
    const image = digest(1);
    const privateKey = await runAction(
      'bluegreen-deploy',
      {
        kubeconfig,
        namespace,
        app: 'signed',
        image,
        'verify-key': readFileSync(new URL('cosign.key', fixtures), 'utf8'),
      },
      await loadEvent('push-default-branch'),
    );
    expect(privateKey.log).toMatch(/title=input 'verify-key'::.*expected a PEM block -----BEGIN PUBLIC KEY-----/);
    const halfKeyless = await runAction(
      'bluegreen-deploy',
      {
        kubeconfig,
        namespace,
        app: 'signed',
        image,
        'certificate-identity': 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main',
      },
      await loadEvent('push-default-branch'),
    );
    expect(halfKeyless.log).toMatch(
      /title=input 'certificate-oidc-issuer'::input 'certificate-oidc-issuer': is empty while a certificate identity is set/,
    );
    expect(halfKeyless.log).toMatch(/title=input 'trusted-root'::input 'trusted-root': is empty/);
  });
});

describe('a first deploy over objects someone else owns', () => {
  it('stops before applying anything and names them; force: true takes them over', async () => {
    const existing = await client.apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'legacy', namespace, labels: { app: 'legacy' } },
        spec: { selector: { app: 'legacy' }, ports: [{ name: 'web', port: 80, targetPort: 3000 }] },
      },
      { fieldManager: 'kubectl-client-side-apply' },
    );
    const inputs = { kubeconfig, namespace, app: 'legacy', replicas: '1', image: digest(7) };
    const stopped = await runAction('bluegreen-deploy', inputs, await loadEvent('push-default-branch'));
    expect(stopped.exitCode).toBe(1);
    expect(stopped.log).toMatch(
      new RegExp(
        `::error::read: the first deploy of legacy would take over objects another manager owns: Service ${namespace}/legacy \\(written by kubectl-client-side-apply\\)\\. Nothing was applied\\. Fix: .*set force: true`,
      ),
    );
    expect((await client.get('v1', 'Service', namespace, 'legacy'))?.metadata.resourceVersion).toBe(
      existing.metadata.resourceVersion,
    );
    expect(await client.get('apps/v1', 'Deployment', namespace, 'legacy-blue')).toBeUndefined();
    expect(await client.get('v1', 'Service', namespace, 'legacy-preview')).toBeUndefined();
    expect(await client.get('coordination.k8s.io/v1', 'Lease', namespace, 'legacy-deploy')).toBeUndefined();
    // The PR check's dry run says the same.
    const dryRun = await runAction(
      'bluegreen-deploy',
      { ...inputs, 'dry-run': 'true' },
      await loadEvent('push-default-branch'),
    );
    expect(dryRun.exitCode).toBe(1);
    expect(dryRun.log).toMatch(/would take over objects another manager owns/);
    // On purpose: taken over.
    const forced = await runAction(
      'bluegreen-deploy',
      { ...inputs, force: 'true' },
      await loadEvent('push-default-branch'),
    );
    expect(forced.log).not.toMatch(/::error/);
    expect(forced.exitCode).toBe(0);
    expect(await liveSelector('legacy')).toBe('blue');
  });
});

describe('faults', () => {
  it('the API server crashing mid-rollout: the watch resumes, the deploy completes, state is consistent', async () => {
    const first = await deploy({ app: 'restart', image: digest(60) });
    expect(first.log).not.toMatch(/::error/);
    expect(first.exitCode).toBe(0);
    let restart: Promise<number> | undefined;
    const run = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'restart', replicas: '200', image: digest(61), 'progress-deadline': '3m' },
      await loadEvent('push-default-branch'),
      {},
      {
        whenLogShows: {
          text: '::group::rollout',
          run: () => {
            restart = new Promise((resolve) =>
              spawn('bash', [join(repoRoot, 'test/platform/restart.sh'), 'kube-apiserver', 'KILL'], {
                stdio: 'ignore',
              }).on('close', (code) => resolve(code ?? 1)),
            );
          },
        },
      },
    );
    expect(await restart).toBe(0);
    expect(run.log).not.toMatch(/::error/);
    // The rollout phase outlived the API server: the watch was cut and resumed.
    expect(run.log).toMatch(/rollout: [0-9.]+ s/);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ 'live-colour': 'green', revision: '2', 'previous-colour': 'blue' });
    expect(await liveSelector('restart')).toBe('green');
    // The controllers catch up after the crash: the live Service's endpoints follow the switch (the old
    // colour, kept warm, serves until they do).
    expect(await waitForReadyEndpoints(client, namespace, 'restart', 200, 90_000)).toBe(true);
    const history = await readHistory(client, namespace, 'restart');
    expect(history.map((h) => h.revision)).toEqual([2, 1]); // newest first
    // A re-run of the same digest converges to a no-op.
    const rerun = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'restart', replicas: '200', image: digest(61) },
      await loadEvent('push-default-branch'),
    );
    expect(rerun.outputs.noop).toBe('true');
  }, 240_000);
});

describe('HTTP checks through the preview route', () => {
  // kwok's pods serve nothing: a local server stands for the ingress route to <app>-preview, answering as
  // the new colour would (healthy, or failing).
  let answer = { status: 200, body: '{"status":"ok"}' };
  const requests: string[] = [];
  let server: ReturnType<typeof createServer>;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/healthz`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const checked = (image: string, extra: Record<string, string> = {}) =>
    runAction(
      'bluegreen-deploy',
      {
        kubeconfig,
        namespace,
        app: 'checked',
        replicas: '2',
        image,
        'preview-url': url,
        'preview-interval': '100ms',
        'preview-body': '"status":"ok"',
        ...extra,
      },
      event,
    );
  let event: Awaited<ReturnType<typeof loadEvent>>;
  beforeAll(async () => {
    event = await loadEvent('push-default-branch');
  });

  it('a healthy preview passes its checks and the switch happens', async () => {
    answer = { status: 200, body: '{"status":"ok"}' };
    const before = requests.length;
    const run = await checked(digest(70));
    expect(run.log).not.toMatch(/::error/);
    expect(run.exitCode).toBe(0);
    expect(requests.length - before).toBe(3);
    expect(run.log).toMatch(/preview check 3\/3 http:\/\/127\.0\.0\.1:[0-9]+\/healthz: ok, status 200/);
    expect(run.summary).toContain('3 of 3 checks of');
  });

  it.each([
    ['a 503', { status: 503, body: 'down' }, /status 503, expected 200/],
    ['a body that does not match', { status: 200, body: '{"status":"degraded"}' }, /the body does not match/],
  ])(
    'a preview answering %s fails the deploy before the switch; the live colour keeps serving',
    async (_name, response, detail) => {
      answer = response;
      const live = await liveSelector('checked');
      const run = await checked(digest(71));
      expect(run.exitCode).toBe(1);
      expect(run.log).toMatch(
        /::error::preview: the new colour (blue|green) failed its check through checked-preview: 1 of 1 checks of http:\/\/127\.0\.0\.1:[0-9]+\/healthz failed/,
      );
      expect(run.log).toMatch(detail);
      expect(run.log).toMatch(
        /live traffic stays on (blue|green)\. Fix: fix the release; the old colour keeps serving/,
      );
      expect(await liveSelector('checked')).toBe(live);
      expect(await readyEndpoints(client, namespace, 'checked')).toBe(2);
    },
  );

  it('tolerates failures up to the limit', async () => {
    let n = 0;
    answer = { status: 200, body: '{"status":"ok"}' };
    const flaky = server.listeners('request')[0] as (
      req: unknown,
      res: { writeHead: (s: number) => { end: (b: string) => void } },
    ) => void;
    server.removeAllListeners('request');
    server.on('request', (req, res) => (++n === 2 ? res.writeHead(502).end('blip') : flaky(req, res)));
    const run = await checked(digest(72), { 'preview-checks': '4', 'preview-failure-limit': '1' });
    expect(run.exitCode).toBe(0);
    expect(run.summary).toContain('3 of 4 checks of');
  });
});

describe('scale-down delay of the previous colour', () => {
  const replicasOf = async (name: string) =>
    (await client.get<KubeObject & { spec: { replicas: number } }>('apps/v1', 'Deployment', namespace, name))?.spec
      .replicas;

  it('keeps it warm by default, scales it to zero after the delay, and the next deploy brings it back', async () => {
    const first = await deploy({ app: 'scaled', image: digest(80) });
    expect(first.outputs['live-colour']).toBe('blue');
    const kept = await deploy({ app: 'scaled', image: digest(81) });
    expect(kept.outputs['previous-scaled-down']).toBe('false');
    expect(await replicasOf('scaled-blue')).toBe(3);
    const scaled = await deploy({ app: 'scaled', image: digest(82), 'scale-down-delay': '6s' });
    expect(scaled.log).not.toMatch(/::error/);
    expect(scaled.outputs).toMatchObject({
      'live-colour': 'blue',
      'previous-colour': 'green',
      'previous-scaled-down': 'true',
    });
    expect(scaled.log).toContain('keeping green warm for 6 s before scaling it down');
    expect(await replicasOf('scaled-green')).toBe(0);
    expect(await replicasOf('scaled-blue')).toBe(3);
    expect(await readyEndpoints(client, namespace, 'scaled')).toBe(3);
    expect((await readHistory(client, namespace, 'scaled'))[0]).toMatchObject({
      action: 'scale-down',
      colour: 'green',
      revision: 3,
    });
    // The next deploy goes to green again: its apply takes replicas back from the scale-down.
    const next = await deploy({ app: 'scaled', image: digest(83) });
    expect(next.exitCode).toBe(0);
    expect(next.outputs['live-colour']).toBe('green');
    expect(await replicasOf('scaled-green')).toBe(3);
  });

  it('leaves the colour alone when the state changed since the deploy', async () => {
    const state = await client.get('v1', 'Service', namespace, 'scaled');
    const revision = Number(state?.metadata.annotations?.['deploy-suite.dev/revision']);
    const outcome = await scaleDownPrevious(
      client,
      {
        namespace,
        app: 'scaled',
        liveColour: 'green',
        previousColour: 'blue',
        previousDigest: digest(82).split('@')[1]!,
        revision: revision - 1,
      },
      0,
      { holder: 'test', lockWaitMs: 1000, leaseSeconds: 10, log: () => undefined },
    );
    expect(outcome).toEqual({
      scaledDown: false,
      reason: expect.stringContaining('the state changed since the deploy'),
    });
    expect(await replicasOf('scaled-blue')).toBe(3);
  });
});

describe('user manifests', () => {
  it('a Service template gives both Services its ports and annotations; the switch still moves the selector', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-template-'));
    const file = join(dir, 'service.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata:',
        '  name: web',
        '  annotations: {prometheus.io/scrape: "true"}',
        'spec:',
        '  ports:',
        '  - {name: http, port: 8080, targetPort: 8080}',
        '  - {name: metrics, port: 9090, targetPort: 9090}',
      ].join('\n'),
    );
    for (const n of [90, 91]) {
      const run = await deploy({ app: 'templated', image: digest(n), 'service-template': file });
      expect(run.exitCode).toBe(0);
    }
    for (const name of ['templated', 'templated-preview']) {
      const service = await client.get<KubeObject & { spec: { ports: { name: string; port: number }[] } }>(
        'v1',
        'Service',
        namespace,
        name,
      );
      expect(service?.spec.ports.map((p) => `${p.name}:${p.port}`)).toEqual(['http:8080', 'metrics:9090']);
      expect(service?.metadata.annotations?.['prometheus.io/scrape']).toBe('true');
    }
    expect(await liveSelector('templated')).toBe('green');
  });
});

describe('held promotion', () => {
  const replicasOf = async (name: string) =>
    (await client.get<KubeObject & { spec: { replicas: number } }>('apps/v1', 'Deployment', namespace, name))?.spec
      .replicas;
  const heldAnnotation = async (app: string) =>
    (await client.get('v1', 'Service', namespace, `${app}-preview`))?.metadata.annotations?.['deploy-suite.dev/held'];

  it('holds a release warm behind the preview; a promote switches it and closes its GitHub deployment', async () => {
    const api = await startGitHubApi({
      'POST /repos/acme/shop-api/deployments': { id: 9101, environment: 'production' },
      'POST /repos/acme/shop-api/deployments/9101/statuses': { id: 1 },
    });
    try {
      const env = { GITHUB_API_URL: api.url };
      const github = { environment: 'production', 'github-token': 'ghs_holdtoken456' };
      expect((await deploy({ app: 'held', image: digest(90) })).exitCode).toBe(0);
      const hold = await runAction(
        'bluegreen-deploy',
        {
          kubeconfig,
          namespace,
          app: 'held',
          replicas: '3',
          image: digest(91),
          promote: 'false',
          'hold-timeout': '1h',
          ...github,
        },
        await loadEvent('push-default-branch'),
        env,
      );
      expect(hold.exitCode).toBe(0);
      expect(hold.outputs).toMatchObject({
        held: 'true',
        'held-colour': 'green',
        'held-revision': '2',
        'live-colour': 'blue',
        revision: '1',
      });
      expect(Date.parse(hold.outputs['held-until']!) - Date.now()).toBeGreaterThan(3_500_000);
      expect(hold.summary).toMatch(/Held for promotion.*green, revision 2/);
      expect(Object.keys(JSON.parse(hold.outputs.timings!))).toEqual([
        'pod-security',
        'lock',
        'read',
        'apply',
        'rollout',
        'preview',
        'hold',
      ]);
      expect(await liveSelector('held')).toBe('blue');
      expect(await previewSelector('held')).toBe('green');
      expect(await readyEndpoints(client, namespace, 'held-preview')).toBe(3);
      expect((await readHistory(client, namespace, 'held')).map((h) => h.revision)).toEqual([1]);
      // The GitHub deployment stays in progress while held.
      expect(api.requests.map((r) => (r.body as { state?: string } | undefined)?.state)).toEqual([
        undefined,
        'in_progress',
        'in_progress',
      ]);
      expect((api.requests[2]!.body as { description: string }).description).toMatch(
        /^held for promotion on green until /,
      );

      api.requests.length = 0;
      const promote = await runAction(
        'bluegreen-deploy',
        {
          kubeconfig,
          namespace,
          app: 'held',
          mode: 'promote',
          image: digest(91),
          'github-token': 'ghs_holdtoken456',
          'environment-url': 'https://shop.example.com',
        },
        await loadEvent('workflow-dispatch'),
        env,
      );
      expect(promote.log).not.toMatch(/::error/);
      expect(promote.exitCode).toBe(0);
      expect(promote.outputs).toMatchObject({
        mode: 'promote',
        'live-colour': 'green',
        'previous-colour': 'blue',
        revision: '2',
      });
      expect(await liveSelector('held')).toBe('green');
      expect(await previewSelector('held')).toBe('blue');
      expect(await readyEndpoints(client, namespace, 'held')).toBe(3);
      expect(await heldAnnotation('held')).toBeUndefined();
      expect((await readHistory(client, namespace, 'held')).map((h) => [h.revision, h.action])).toEqual([
        [2, 'deploy'],
        [1, 'deploy'],
      ]);
      expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /repos/acme/shop-api/deployments/9101/statuses',
      ]);
      expect(api.requests[0]!.body).toMatchObject({ state: 'success', environment_url: 'https://shop.example.com' });
      // A second promote has nothing to promote.
      const again = await runAction(
        'bluegreen-deploy',
        { kubeconfig, namespace, app: 'held', mode: 'promote' },
        await loadEvent('workflow-dispatch'),
      );
      expect(again.exitCode).toBe(1);
      expect(again.log).toMatch(/nothing is held for promotion in .*\/held \(revision 2 is live on green\)/);
    } finally {
      await api.close();
    }
  }, 120_000);

  it('a promote is refused once the preview no longer shows what was checked; abort scales the held colour down', async () => {
    const hold = await deploy({ app: 'held', image: digest(92), promote: 'false' });
    expect(hold.outputs['held-colour']).toBe('blue');
    // Someone restarts the held colour (kubectl rollout restart writes this annotation).
    await client.mergePatch(
      'apps/v1',
      'Deployment',
      namespace,
      'held-blue',
      {
        spec: {
          template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } },
        },
      },
      { fieldManager: 'kubectl-rollout' },
    );
    const refused = await deploy({ app: 'held', mode: 'promote' });
    expect(refused.exitCode).toBe(1);
    expect(refused.log).toMatch(
      /no longer the release held for promotion .*the pod template of blue changed since the hold/,
    );
    expect(await liveSelector('held')).toBe('green');
    // Another image than the one held: refused too.
    const other = await deploy({ app: 'held', mode: 'promote', image: digest(93) });
    expect(other.log).toMatch(/the held release is sha256:e+5c, not the image given/);
    const abort = await deploy({ app: 'held', mode: 'abort' });
    expect(abort.exitCode).toBe(0);
    expect(abort.outputs).toMatchObject({ mode: 'abort', aborted: 'true' });
    expect(await replicasOf('held-blue')).toBe(0);
    expect(await liveSelector('held')).toBe('green');
    expect(await readyEndpoints(client, namespace, 'held')).toBe(3);
    expect(await heldAnnotation('held')).toBeUndefined();
  }, 120_000);

  it('a hold past hold-timeout: expire keeps a live hold, aborts an expired one; a promote of an expired hold aborts it', async () => {
    const hold = await deploy({ app: 'held', image: digest(94), promote: 'false', 'hold-timeout': '3s' });
    expect(hold.outputs['held-colour']).toBe('blue');
    const early = await deploy({ app: 'held', mode: 'expire' });
    expect(early.outputs.aborted).toBe('false');
    expect(early.log).toMatch(/is held until /);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const expired = await deploy({ app: 'held', mode: 'expire' });
    expect(expired.outputs.aborted).toBe('true');
    expect(await replicasOf('held-blue')).toBe(0);
    // Again, and promoted too late: the promote aborts it and fails.
    expect((await deploy({ app: 'held', image: digest(95), promote: 'false', 'hold-timeout': '1s' })).exitCode).toBe(0);
    // A later deploy of the app replaces a held release (its record goes with the preview's apply).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const late = await deploy({ app: 'held', mode: 'promote' });
    expect(late.exitCode).toBe(1);
    expect(late.log).toMatch(/expired at .*it was aborted, blue scaled down to 0; live traffic stays on green/);
    expect(await replicasOf('held-blue')).toBe(0);
    expect(await liveSelector('held')).toBe('green');
  }, 120_000);

  it('a deploy over a held release replaces it: the hold record goes with the preview apply', async () => {
    expect((await deploy({ app: 'held', image: digest(96), promote: 'false' })).outputs.held).toBe('true');
    expect(await heldAnnotation('held')).toBeDefined();
    const replaced = await deploy({ app: 'held', image: digest(97) });
    expect(replaced.outputs).toMatchObject({
      held: 'false',
      'live-colour': 'blue',
      digest: `sha256:${(97).toString(16).padStart(64, 'e')}`,
    });
    expect(await heldAnnotation('held')).toBeUndefined();
  }, 120_000);
});
