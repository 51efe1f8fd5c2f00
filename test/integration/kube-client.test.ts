// The suite's Kubernetes client and blue-green objects against the real control plane: server-side
// apply with one field manager, rollouts followed by watch (not polling), the progress deadline.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  KubeClient,
  createKubeClient,
  loadClusterAccess,
  parseKubeconfig,
  renderDeployment,
  renderServices,
  rolloutState,
  type AppSpec,
  type DeploymentLike,
  type KubeObject,
} from '@deploy-suite/kube';

const namespace = `kc-${randomBytes(3).toString('hex')}`;
const digest = `sha256:${'4'.repeat(64)}`;
const FIELD_MANAGER = 'deploy-suite';
let client: KubeClient;

function spec(overrides: Partial<AppSpec> = {}): AppSpec {
  return {
    app: 'shop',
    namespace,
    replicas: 3,
    image: `127.0.0.1:5000/shop@${digest}`,
    containerPort: 8080,
    progressDeadlineSeconds: 60,
    ...overrides,
  };
}

async function waitForRollout(name: string, timeoutMs: number): Promise<string> {
  let last = 'no event';
  let phase = '';
  await client.watchObject<KubeObject & DeploymentLike>(
    'apps/v1',
    'Deployment',
    namespace,
    name,
    undefined,
    (_type, deployment) => {
      const state = rolloutState(deployment);
      last = state.message;
      phase = state.phase;
      return state.phase !== 'waiting';
    },
    { timeoutMs },
  );
  return `${phase}: ${last}`;
}

beforeAll(async () => {
  const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
  client = createKubeClient(loadClusterAccess(Buffer.from(kubeconfig).toString('base64')));
  await client.apply(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    { fieldManager: FIELD_MANAGER },
  );
});

afterAll(async () => {
  await client.delete('v1', 'Namespace', undefined, namespace);
  client.close();
});

describe('KubeClient on the local control plane', () => {
  it('applies a colour Deployment and its Services, and watches the rollout to Available', async () => {
    const before = client.requestCount;
    await client.apply(renderDeployment(spec(), 'blue', 1), { fieldManager: FIELD_MANAGER });
    for (const service of renderServices(spec(), 'blue', { 'deploy-suite.dev/live-colour': 'blue' }))
      await client.apply(service, { fieldManager: FIELD_MANAGER });
    expect(await waitForRollout('shop-blue', 60_000)).toMatch(/^done: 3 of 3 replicas available/);
    // Apply x3 and one watch (a watch the server ends early is resumed, so allow one more).
    expect(client.requestCount - before).toBeLessThanOrEqual(5);
    const live = await client.get<KubeObject & { spec: { selector: Record<string, string> } }>(
      'v1',
      'Service',
      namespace,
      'shop',
    );
    expect(live?.spec.selector['deploy-suite.dev/colour']).toBe('blue');
    expect((live?.metadata.managedFields as { manager: string }[]).map((f) => f.manager)).toContain(FIELD_MANAGER);
  });

  it('re-applying the same objects changes nothing (same generation)', async () => {
    const before = await client.get('apps/v1', 'Deployment', namespace, 'shop-blue');
    const after = await client.apply(renderDeployment(spec(), 'blue', 1), { fieldManager: FIELD_MANAGER });
    expect(after.metadata.generation).toBe(before?.metadata.generation);
  });

  it('a server-side dry run validates without persisting', async () => {
    const answer = await client.apply(renderDeployment(spec({ replicas: 5 }), 'green', 2), {
      fieldManager: FIELD_MANAGER,
      dryRun: true,
    });
    expect(answer.metadata.name).toBe('shop-green');
    expect(await client.get('apps/v1', 'Deployment', namespace, 'shop-green')).toBeUndefined();
  });

  it('a rollout whose pods never become ready fails at its progress deadline', async () => {
    await client.apply(
      renderDeployment(
        spec({
          app: 'stuck',
          replicas: 2,
          progressDeadlineSeconds: 3,
          podLabels: { 'deploy-suite.test/hold-not-ready': 'true' },
        }),
        'green',
        1,
      ),
      { fieldManager: FIELD_MANAGER },
    );
    expect(await waitForRollout('stuck-green', 60_000)).toMatch(/^failed: the rollout exceeded its progress deadline/);
  });

  it('API errors carry the status and the reason', async () => {
    const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'Bad_Name', namespace }, spec: {} };
    await expect(client.apply(bad, { fieldManager: FIELD_MANAGER })).rejects.toThrow(
      /answered (422 Invalid|400 BadRequest)/,
    );
  });

  it('a kubeconfig pointing at a closed port fails with the address, after retries', async () => {
    const access = parseKubeconfig(readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8'));
    const closed = createKubeClient({ ...access, server: 'https://127.0.0.1:1' });
    await expect(closed.get('v1', 'Namespace', undefined, 'default')).rejects.toThrow(/127\.0\.0\.1:1.*ECONNREFUSED/);
    expect(closed.requestCount).toBe(6);
    closed.close();
  }, 60_000);
});
