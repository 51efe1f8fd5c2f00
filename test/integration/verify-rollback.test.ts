// verify-rollback, bundled, run as the runner runs it, against the real control plane and the real
// Prometheus (Debian) scraping the metrics emitter, which plays each colour healthy or failing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import {
  acquireLease,
  createKubeClient,
  parseKubeconfig,
  readHistory,
  readyEndpoints,
  type KubeClient,
  type KubeObject,
} from '@deploy-suite/kube';
import { RegistryClient, parseReference } from '@deploy-suite/oci';
import {
  PREDICATE_TYPES,
  attachBundle,
  imageStatement,
  keySigning,
  openCosignPrivateKey,
  signStatement,
} from '@deploy-suite/supply-chain';
import { loadEvent, repoRoot, runAction, type ActionRun } from '../support/action-runner.js';
import { freshImage } from '../support/registry-api.js';
import { startGitHubApi } from '../support/github-api-double.js';
import { playRelease, waitForSamples } from '../support/metrics.js';

const namespace = `vr-${randomBytes(3).toString('hex')}`;
const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const prometheus = process.env.DEPLOY_SUITE_PROMETHEUS!;
const digest = (n: number) => `127.0.0.1:5000/shop/api@sha256:${n.toString(16).padStart(64, 'd')}`;
const HEALTHY = { rps: 40, errorRate: 0, latencySeconds: 0.02 };
let client: KubeClient;

const deploy = async (app: string, n: number, extra: Record<string, string> = {}) => {
  const run = await runAction(
    'bluegreen-deploy',
    { kubeconfig, namespace, app, replicas: '3', image: digest(n), ...extra },
    await loadEvent('push-default-branch'),
  );
  if (run.exitCode !== 0) throw new Error(run.log.slice(-2000));
  return run;
};
const verify = async (app: string, inputs: Record<string, string>) =>
  runAction('verify-rollback', { kubeconfig, namespace, app, ...inputs }, await loadEvent('workflow-dispatch'));
const metricInputs = {
  'prometheus-url': prometheus,
  'error-rate-max': '0.05',
  'p95-max': '250ms',
  'metrics-window': '5s',
  'metrics-checks': '3',
  'metrics-interval': '1s',
};
const live = async (app: string) => (await client.get('v1', 'Service', namespace, app))?.metadata.annotations ?? {};

/** Reads the live Service's ready endpoints every 50 ms until stopped; the smallest count seen. */
function sampler(app: string): { stop: () => Promise<{ min: number; samples: number }> } {
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
  return { stop: async () => ((running = false), await loop, { min, samples }) };
}

/** Every rollback of a block is sampled: from its first deploy to its last test, never zero ready. */
function sampleThroughout(app: string): void {
  let watch: ReturnType<typeof sampler> | undefined;
  beforeAll(() => void (watch = sampler(app)));
  afterAll(async () => {
    const seen = await watch?.stop();
    expect(seen?.samples).toBeGreaterThan(5);
    expect(seen?.min).toBeGreaterThan(0);
  });
}

/** Reads the live Service's ready endpoints every 50 ms while `work` runs; the smallest count seen. */
async function sampled<T>(app: string, work: () => Promise<T>): Promise<{ result: T; minReady: number }> {
  let running = true;
  let minReady = Number.POSITIVE_INFINITY;
  const loop = (async () => {
    while (running) {
      minReady = Math.min(minReady, await readyEndpoints(client, namespace, app));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    return { result: await work(), minReady };
  } finally {
    running = false;
    await loop;
  }
}

beforeAll(async () => {
  client = createKubeClient(parseKubeconfig(kubeconfig));
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: 'test' });
});

afterAll(async () => {
  await client.delete('v1', 'Namespace', undefined, namespace);
  client.close();
});

describe('analysis after the switch', () => {
  // The emitter and Prometheus outlive a test run: a name of this run's own keeps old series out.
  const app = `shop-${namespace.slice(3)}`;

  beforeAll(async () => {
    await deploy(app, 1); // blue
    await deploy(app, 2); // green, blue kept warm
    await playRelease(namespace, app, 'blue', HEALTHY);
  }, 120_000);
  sampleThroughout(app);

  it('a healthy release is kept', async () => {
    await playRelease(namespace, app, 'green', HEALTHY);
    await waitForSamples(namespace, app, 'green', 6);
    const run = await verify(app, { ...metricInputs, 'expect-digest': digest(2).split('@')[1]! });
    expect(run.log).not.toMatch(/::error/);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ verdict: 'passed', 'rolled-back': 'false' });
    expect(
      JSON.parse(run.outputs.measurements!).map((m: { name: string; verdict: string }) => `${m.name}:${m.verdict}`),
    ).toEqual(['error-rate:passed', 'p95-latency:passed']);
    expect((await live(app))['deploy-suite.dev/live-colour']).toBe('green');
    expect(run.summary).toContain('```mermaid');
  }, 60_000);

  it('an error-rate breach rolls back to the previous colour in seconds, with no moment without ready endpoints', async () => {
    await playRelease(namespace, app, 'green', { ...HEALTHY, errorRate: 0.3 });
    await new Promise((resolve) => setTimeout(resolve, 6000)); // the 5 s window fills with the spike
    const { result: run, minReady } = await sampled(app, () =>
      verify(app, { ...metricInputs, 'expect-digest': digest(2).split('@')[1]! }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({
      verdict: 'failed',
      'rolled-back': 'true',
      'live-colour': 'blue',
      'live-digest': digest(1).split('@')[1],
    });
    expect(run.log).toMatch(
      /::error::analysis: the release sha256:d+2 is failed: error-rate failed \(0\.3 not <= 0\.05\).*Rolled back to sha256:d+1 on blue in [0-9.]+ s\. Fix: fix the release/,
    );
    expect(Number(run.outputs['rollback-seconds'])).toBeLessThan(5);
    expect(minReady).toBeGreaterThanOrEqual(3);
    const annotations = await live(app);
    expect(annotations).toMatchObject({
      'deploy-suite.dev/live-colour': 'blue',
      'deploy-suite.dev/previous-colour': 'green',
      'deploy-suite.dev/revision': '3',
    });
    expect((await readHistory(client, namespace, app))[0]).toMatchObject({
      revision: 3,
      action: 'rollback',
      colour: 'blue',
    });
    expect(run.summary).toContain('rolled back');
  }, 60_000);

  it('a latency breach rolls back too', async () => {
    await deploy(app, 3); // to green again
    await playRelease(namespace, app, 'green', { ...HEALTHY, latencySeconds: 0.8 });
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const run = await verify(app, metricInputs);
    expect(run.outputs).toMatchObject({ verdict: 'failed', 'rolled-back': 'true', 'live-colour': 'blue' });
    expect(run.log).toMatch(/p95-latency failed \(0\.[0-9]+ not <= 0\.25\)/);
  }, 90_000);

  it('an expected digest that is no longer live stops the run before anything changes', async () => {
    const before = await live(app);
    const run = await verify(app, { ...metricInputs, 'expect-digest': digest(3).split('@')[1]! });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(/is live, not sha256:d+3: another deploy or rollback happened since/);
    expect(await live(app)).toEqual(before);
  });
});

describe('Prometheus down: the inconclusive policy decides', () => {
  const app = 'inconc';
  const down = { ...metricInputs, 'metrics-checks': '2', 'metrics-interval': '200ms' };
  const platform = (script: string) => {
    const result = spawnSync('bash', ['-c', script], { cwd: repoRoot, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(result.stderr);
  };

  beforeAll(async () => {
    await deploy(app, 10);
    await deploy(app, 11);
    // The platform's Prometheus itself is stopped for these tests, and started again after.
    platform('. test/platform/lib.sh && stop_daemon prometheus');
  }, 120_000);
  sampleThroughout(app);

  afterAll(() => platform('test/platform/up.sh prometheus >/dev/null'), 120_000);

  it('pass: the release stays, the verdict says inconclusive', async () => {
    const run = await verify(app, { ...down, inconclusive: 'pass' });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ verdict: 'inconclusive', 'rolled-back': 'false' });
    expect(run.log).toMatch(/error-rate 1\/2: inconclusive, Prometheus unreachable: ECONNREFUSED/);
    expect((await live(app))['deploy-suite.dev/live-colour']).toBe('green');
  });

  it('fail (the default): rolled back; history says so; a re-run of the job changes nothing more', async () => {
    const bad = digest(11).split('@')[1]!;
    const run = await verify(app, { ...down, 'expect-digest': bad });
    expect(run.exitCode).toBe(1);
    expect(run.outputs).toMatchObject({
      verdict: 'inconclusive',
      'rolled-back': 'true',
      'live-colour': 'blue',
      'live-digest': digest(10).split('@')[1],
    });
    const history = await readHistory(client, namespace, app);
    // The analysis is in it too (the KPIs count it), once for the revision however often it ran.
    expect(history.map((h) => h.action)).toEqual(['rollback', 'analysis', 'deploy', 'deploy']);
    // "Re-run failed jobs" with Prometheus still down: the digest it was to check is no longer live, so it
    // stops before anything changes (and does not flip back to the release it rolled away from).
    const rerun = await verify(app, { ...down, 'expect-digest': bad });
    expect(rerun.exitCode).toBe(1);
    expect(rerun.outputs['rolled-back']).not.toBe('true');
    expect((await live(app))['deploy-suite.dev/live-colour']).toBe('blue');
    expect(await readHistory(client, namespace, app)).toHaveLength(4);
  });
});

describe('manual rollback (workflow_dispatch)', () => {
  const app = 'manual';
  beforeAll(async () => {
    await deploy(app, 20); // r1 blue
    await deploy(app, 21); // r2 green
    await deploy(app, 22); // r3 blue
  }, 120_000);
  sampleThroughout(app);

  it('to the previous release: a selector switch', async () => {
    const run = await verify(app, { 'rollback-to': 'previous' });
    expect(run.log).not.toMatch(/::error/);
    expect(run.outputs).toMatchObject({
      verdict: 'skipped',
      'rolled-back': 'true',
      'live-colour': 'green',
      'live-digest': digest(21).split('@')[1],
      revision: '4',
    });
    expect(run.summary).toContain('(switch)');
  });

  it('to a named revision no colour runs any more: deployed to the idle colour, then switched', async () => {
    const run = await verify(app, { 'rollback-to': '1' });
    expect(run.log).not.toMatch(/::error/);
    expect(run.outputs).toMatchObject({
      'rolled-back': 'true',
      'live-colour': 'blue',
      'live-digest': digest(20).split('@')[1],
      revision: '5',
    });
    expect(run.summary).toContain('(deployed)');
    expect((await readHistory(client, namespace, app))[0]).toMatchObject({
      revision: 5,
      action: 'rollback',
      digest: digest(20).split('@')[1],
    });
  });

  it('to the live digest: nothing to do', async () => {
    const run = await verify(app, { 'rollback-to': digest(20).split('@')[1]! });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ 'rolled-back': 'false' });
  });

  it('to a revision not in history: a clear error, nothing changes', async () => {
    const run = await verify(app, { 'rollback-to': '99' });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(/revision 99 is not in manual's history \(it has 5, 4, 3, 2, 1\)/);
  });

  it('after the old colour was scaled down: scaled up, ready, then switched', async () => {
    await deploy(app, 23, { 'scale-down-delay': '0' }); // green r6, blue scaled to 0
    expect(
      (await client.get<KubeObject & { spec: { replicas: number } }>('apps/v1', 'Deployment', namespace, 'manual-blue'))
        ?.spec.replicas,
    ).toBe(0);
    const { result: run, minReady } = await sampled(app, () => verify(app, { 'rollback-to': 'previous' }));
    expect(run.log).not.toMatch(/::error/);
    expect(run.outputs).toMatchObject({
      'rolled-back': 'true',
      'live-colour': 'blue',
      'live-digest': digest(20).split('@')[1],
    });
    expect(run.summary).toContain('(scaled-up)');
    expect(minReady).toBeGreaterThanOrEqual(3);
    expect(await readyEndpoints(client, namespace, 'manual')).toBeGreaterThanOrEqual(3);
  }, 120_000);

  it('while a deploy holds the lock: waits up to lock-timeout, then fails clearly', async () => {
    const lease = await acquireLease(client, namespace, 'manual-deploy', 'acme/shop/actions/runs/77', {
      durationSeconds: 60,
      waitMs: 1000,
    });
    try {
      const before = await live(app);
      const run: ActionRun = await verify(app, { 'rollback-to': 'previous', 'lock-timeout': '2s' });
      expect(run.exitCode).toBe(1);
      expect(run.log).toMatch(
        /lock: another deploy or rollback of manual holds the lock \(acme\/shop\/actions\/runs\/77\)/,
      );
      expect(await live(app)).toEqual(before);
    } finally {
      await lease.release();
    }
  });
});

describe('GitHub deployments after a rollback', () => {
  it('the rolled-back release is marked failed, the restored one active again (Deployments API, HTTP level)', async () => {
    const app = 'gh';
    await deploy(app, 30);
    await deploy(app, 31);
    const shape = (id: number, n: number) => ({
      id,
      url: `https://api.github.com/repos/acme/shop-api/deployments/${id}`,
      sha: '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
      ref: 'trunk',
      task: 'deploy',
      environment: 'production',
      created_at: '2026-11-27T10:00:00Z',
      payload: { app, namespace, image: digest(n) },
    });
    const api = await startGitHubApi({
      'GET /repos/acme/shop-api/deployments?environment=production&per_page=30': [
        shape(602, 31),
        shape(601, 30),
        { ...shape(600, 30), payload: { app: 'other', namespace, image: digest(30) } },
      ],
      'POST /repos/acme/shop-api/deployments/602/statuses': { id: 1, state: 'failure' },
      'POST /repos/acme/shop-api/deployments/601/statuses': { id: 2, state: 'success' },
    });
    try {
      const run = await runAction(
        'verify-rollback',
        {
          kubeconfig,
          namespace,
          app,
          'rollback-to': 'previous',
          environment: 'production',
          'github-token': 'ghs_rollbacktoken42',
        },
        await loadEvent('workflow-dispatch'),
        { GITHUB_API_URL: api.url },
      );
      expect(run.log).not.toMatch(/::error|::warning/);
      expect(run.outputs['rolled-back']).toBe('true');
      expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'GET /repos/acme/shop-api/deployments?environment=production&per_page=30',
        'POST /repos/acme/shop-api/deployments/602/statuses',
        'POST /repos/acme/shop-api/deployments/601/statuses',
      ]);
      expect(api.requests[0]!.authorization).toBe('Bearer ghs_rollbacktoken42');
      expect(api.requests[1]!.body).toMatchObject({
        state: 'failure',
        description: 'rolled back: manual rollback',
        auto_inactive: true,
      });
      expect(api.requests[2]!.body).toMatchObject({
        state: 'success',
        description: expect.stringContaining('live again after a rollback'),
      });
      expect(
        run.log
          .split('\n')
          .filter((l) => !l.startsWith('::add-mask::'))
          .join('\n'),
      ).not.toContain('ghs_rollbacktoken42');
    } finally {
      await api.close();
    }
  });
});

describe('a deploy killed mid-rollout', () => {
  it('left the preview parked (selecting no pod): the rollback points it back at the warm colour and switches', async () => {
    const app = 'parked';
    await deploy(app, 40); // r1 blue
    await deploy(app, 41); // r2 green, blue warm
    const previewColour = async () =>
      (
        (await client.get('v1', 'Service', namespace, `${app}-preview`)) as unknown as {
          spec: { selector: Record<string, string> };
        }
      ).spec.selector['deploy-suite.dev/colour'];
    const killed = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app, replicas: '3', image: digest(42) },
      await loadEvent('push-default-branch'),
      {},
      { killWhenLogShows: '::group::rollout' },
    );
    expect(killed.exitCode).not.toBe(0);
    expect(await previewColour()).toBe('none');
    const run = await verify(app, { 'rollback-to': 'previous' });
    expect(run.log).not.toMatch(/::error/);
    expect(run.outputs).toMatchObject({ 'rolled-back': 'true', 'live-colour': 'blue' });
    expect(await readyEndpoints(client, namespace, app)).toBe(3);
    expect(await previewColour()).toBe('green');
  });
});

describe('the signature policy on every rollback path', () => {
  // Three real images in the registry: A and B signed with the fixture key, C never signed.
  const app = 'policy';
  const fixtures = new URL('../fixtures/cosign/', import.meta.url);
  const publicKey = readFileSync(new URL('cosign.pub', fixtures), 'utf8');
  const policy = { 'verify-key': publicKey };
  const images: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  const digestOf = (image: string) => image.slice(image.indexOf('@') + 1);
  const patchService = (annotations: Record<string, string>) =>
    client.mergePatch('v1', 'Service', namespace, app, { metadata: { annotations } }, { fieldManager: 'intruder' });
  const patchHistory = async (edit: (entries: { revision: number; digest: string }[]) => void) => {
    const map = await client.get<KubeObject & { data: { history: string } }>(
      'v1',
      'ConfigMap',
      namespace,
      `${app}-deploy-history`,
    );
    const entries = JSON.parse(map!.data.history) as { revision: number; digest: string }[];
    edit(entries);
    await client.mergePatch(
      'v1',
      'ConfigMap',
      namespace,
      `${app}-deploy-history`,
      { data: { history: JSON.stringify(entries) } },
      { fieldManager: 'intruder' },
    );
  };
  /** What a refused rollback must leave: the live selector and state exactly as they were. */
  const liveState = async () => {
    const service = (await client.get('v1', 'Service', namespace, app)) as unknown as {
      metadata: { annotations: Record<string, string> };
      spec: { selector: Record<string, string> };
    };
    return { selector: service.spec.selector, annotations: service.metadata.annotations };
  };

  beforeAll(async () => {
    const key = await openCosignPrivateKey(readFileSync(new URL('cosign.key', fixtures), 'utf8'), 'fixture-password');
    for (const name of ['a', 'b', 'c'] as const) {
      images[name] = await freshImage(`${namespace}/policy`, `${namespace}-${name}`);
      if (name === 'c') continue;
      const ref = parseReference(images[name]);
      const bundle = await signStatement(imageStatement(ref.digest!, PREDICATE_TYPES.signature, {}), keySigning(key));
      await attachBundle(new RegistryClient(), ref, bundle, PREDICATE_TYPES.signature);
    }
    for (const name of ['a', 'b'] as const) {
      const run = await runAction(
        'bluegreen-deploy',
        { kubeconfig, namespace, app, replicas: '2', image: images[name], ...policy },
        await loadEvent('push-default-branch'),
      );
      if (run.exitCode !== 0) throw new Error(run.log.slice(-2000));
    }
  }, 180_000);

  it('refuses a previous-digest annotation edited to an unsigned image; live untouched', async () => {
    await patchService({ 'deploy-suite.dev/previous-digest': digestOf(images.c) });
    try {
      const before = await liveState();
      const run = await verify(app, { 'rollback-to': 'previous', ...policy });
      expect(run.exitCode).toBe(1);
      expect(run.log).toMatch(
        /::error::verify: .*@sha256:[0-9a-f]{64} has no valid signature by key .*Nothing was rolled back/,
      );
      expect(await liveState()).toEqual(before);
      expect(await client.get('coordination.k8s.io/v1', 'Lease', namespace, `${app}-deploy`)).toBeUndefined();
    } finally {
      await patchService({ 'deploy-suite.dev/previous-digest': digestOf(images.a) });
    }
  });

  it('refuses a history entry edited to an unsigned image, and an entry that is not a digest at all', async () => {
    await patchHistory((entries) => (entries.find((e) => e.revision === 1)!.digest = digestOf(images.c)));
    const before = await liveState();
    const unsigned = await verify(app, { 'rollback-to': '1', ...policy });
    expect(unsigned.exitCode).toBe(1);
    expect(unsigned.log).toMatch(/has no valid signature/);
    expect(await liveState()).toEqual(before);
    // Not a digest: refused by its form, policy or not.
    await patchHistory((entries) => (entries.find((e) => e.revision === 1)!.digest = 'sha256:../../other-repo'));
    const malformed = await verify(app, { 'rollback-to': '1' });
    expect(malformed.exitCode).toBe(1);
    expect(malformed.log).toMatch(
      /revision 1 of ConfigMap .*policy-deploy-history holds 'sha256:..\/..\/other-repo', not a digest .*Nothing was rolled back/,
    );
    expect(await liveState()).toEqual(before);
    await patchHistory((entries) => (entries.find((e) => e.revision === 1)!.digest = digestOf(images.a)));
  });

  it('refuses rollback-to an unsigned digest of the same repository', async () => {
    const before = await liveState();
    const run = await verify(app, { 'rollback-to': digestOf(images.c), ...policy });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(/has no valid signature/);
    expect(await liveState()).toEqual(before);
  });

  it('refuses an automatic rollback to an unsigned previous release: the failing release stays, and says why', async () => {
    await patchService({ 'deploy-suite.dev/previous-digest': digestOf(images.c) });
    try {
      const before = await liveState();
      const run = await verify(app, {
        'http-url': 'http://127.0.0.1:9/health',
        'http-checks': '1',
        'http-interval': '1s',
        ...policy,
      });
      expect(run.exitCode).toBe(1);
      expect(run.log).toMatch(/rolling back to the previous release/);
      expect(run.log).toMatch(/::error::verify: .* has no valid signature/);
      expect(await liveState()).toEqual(before);
    } finally {
      await patchService({ 'deploy-suite.dev/previous-digest': digestOf(images.a) });
    }
  });

  it('rolls back to the signed previous release, verified first', async () => {
    const run = await verify(app, { 'rollback-to': 'previous', ...policy });
    expect(run.log).not.toMatch(/::error/);
    expect(run.exitCode).toBe(0);
    expect(run.log).toMatch(new RegExp(`signature verified for .*${digestOf(images.a)}: key `));
    expect(run.outputs).toMatchObject({ 'rolled-back': 'true', 'live-digest': digestOf(images.a) });
    expect((await liveState()).annotations['deploy-suite.dev/live-digest']).toBe(digestOf(images.a));
  });
});
