import { describe, expect, it } from '@jest/globals';
import {
  parkedPreview,
  planDeploy,
  readLiveState,
  renderDeployment,
  renderServices,
  exceededDeadline,
  rolloutState,
  stateAnnotations,
  switchedState,
  type AppSpec,
  type LiveState,
} from '../src/index.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

describe('blue-green plan', () => {
  it('first deploy goes blue, the next green, the next blue again; the live digest is a no-op', () => {
    const first = planDeploy(undefined, D1);
    expect(first).toEqual({ kind: 'deploy', target: 'blue', revision: 1 });
    const s1 = switchedState(first as Extract<typeof first, { kind: 'deploy' }>, D1);
    const second = planDeploy(s1, D2);
    expect(second).toEqual({
      kind: 'deploy',
      target: 'green',
      revision: 2,
      previous: { colour: 'blue', digest: D1 },
      change: 'image',
    });
    const s2 = switchedState(second as Extract<typeof second, { kind: 'deploy' }>, D2);
    expect(s2).toEqual({
      liveColour: 'green',
      liveDigest: D2,
      revision: 2,
      previousColour: 'blue',
      previousDigest: D1,
    });
    const third = planDeploy(s2, D3);
    expect(third).toMatchObject({
      kind: 'deploy',
      target: 'blue',
      revision: 3,
      previous: { colour: 'green', digest: D2 },
    });
    expect(planDeploy(s2, D2)).toMatchObject({ kind: 'noop', colour: 'green', revision: 2 });
  });

  it('state round-trips through the live Service annotations', () => {
    const state: LiveState = {
      liveColour: 'green',
      liveDigest: D2,
      revision: 7,
      previousColour: 'blue',
      previousDigest: D1,
    };
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'shop', annotations: stateAnnotations(state, { 'run-url': 'https://x' }) },
    };
    expect(readLiveState(service)).toEqual(state);
    expect(readLiveState(undefined)).toBeUndefined();
    expect(
      readLiveState({ ...service, metadata: { name: 'shop', annotations: { 'deploy-suite.dev/live-colour': 'red' } } }),
    ).toBeUndefined();
  });
});

describe('rendering', () => {
  const spec: AppSpec = {
    app: 'shop',
    namespace: 'prod',
    replicas: 3,
    image: `r/shop@${D1}`,
    containerPort: 8080,
    progressDeadlineSeconds: 120,
  };

  it('a colour Deployment selects its colour and runs the digest', () => {
    const d = renderDeployment(spec, 'green', 4) as unknown as {
      metadata: { name: string; annotations: Record<string, string> };
      spec: {
        replicas: number;
        selector: { matchLabels: Record<string, string> };
        template: { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } };
      };
    };
    expect(d.metadata.name).toBe('shop-green');
    expect(d.spec.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'shop',
      'deploy-suite.dev/colour': 'green',
    });
    expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
    expect(d.spec.template.spec.containers[0]!.image).toBe(`r/shop@${D1}`);
    expect(d.metadata.annotations['deploy-suite.dev/revision']).toBe('4');
  });

  it('keeps the user template pod spec, replacing only the first container image', () => {
    const template = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        template: {
          metadata: { labels: { team: 'cart' } },
          spec: {
            serviceAccountName: 'shop',
            containers: [
              { name: 'api', image: 'placeholder' },
              { name: 'sidecar', image: 'envoy@sha256:x' },
            ],
          },
        },
      },
    };
    const d = renderDeployment({ ...spec, deploymentTemplate: template }, 'blue', 1) as unknown as {
      spec: {
        template: {
          metadata: { labels: Record<string, string> };
          spec: { serviceAccountName: string; containers: { name: string; image: string }[] };
        };
      };
    };
    expect(d.spec.template.spec.serviceAccountName).toBe('shop');
    expect(d.spec.template.spec.containers.map((c) => c.image)).toEqual([`r/shop@${D1}`, 'envoy@sha256:x']);
    expect(d.spec.template.metadata.labels.team).toBe('cart');
  });

  it('live selects the live colour, preview the other', () => {
    const [live, preview] = renderServices(spec, 'blue', { a: 'b' }) as unknown as {
      metadata: { name: string };
      spec: { selector: Record<string, string> };
    }[];
    expect(live!.metadata.name).toBe('shop');
    expect(live!.spec.selector['deploy-suite.dev/colour']).toBe('blue');
    expect(preview!.metadata.name).toBe('shop-preview');
    expect(preview!.spec.selector['deploy-suite.dev/colour']).toBe('green');
  });

  it('the parked preview is the same Service selecting no colour', () => {
    const [, preview] = renderServices(spec, 'blue', {}) as unknown as {
      metadata: { name: string };
      spec: { selector: Record<string, string>; ports: unknown[] };
    }[];
    const parked = parkedPreview(spec) as unknown as {
      metadata: { name: string };
      spec: { selector: Record<string, string>; ports: unknown[] };
    };
    expect(parked.metadata.name).toBe('shop-preview');
    expect(parked.spec.ports).toEqual(preview!.spec.ports);
    expect(parked.spec.selector).toEqual({ 'app.kubernetes.io/name': 'shop', 'deploy-suite.dev/colour': 'none' });
  });
});

describe('rolloutState', () => {
  const dep = (status: object, generation = 2, replicas = 3) => ({
    metadata: { generation },
    spec: { replicas },
    status,
  });
  it.each([
    [dep({ observedGeneration: 1 }), 'waiting', /observe/],
    [dep({ observedGeneration: 2, updatedReplicas: 1, replicas: 3 }), 'waiting', /1 of 3 replicas updated/],
    [dep({ observedGeneration: 2, updatedReplicas: 3, replicas: 4 }), 'waiting', /old replicas/],
    [
      dep({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }),
      'waiting',
      /2 of 3 updated replicas available/,
    ],
    [dep({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }), 'done', /3 of 3/],
    [
      dep({
        observedGeneration: 2,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "x" has timed out progressing.',
          },
        ],
      }),
      'failed',
      /progress deadline/,
    ],
  ])('%#', (deployment, phase, message) => {
    const state = rolloutState(deployment);
    expect(state.phase).toBe(phase);
    expect(state.message).toMatch(message);
  });

  it("a timed-out condition left by the last rollout is not this rollout's verdict; a new one is", () => {
    const timedOut = (at: string) =>
      dep({
        observedGeneration: 2,
        updatedReplicas: 0,
        replicas: 3,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', lastUpdateTime: at }],
      });
    const before = exceededDeadline(timedOut('2026-12-01T10:00:00Z'));
    expect(before).toBe('2026-12-01T10:00:00Z');
    expect(rolloutState(timedOut('2026-12-01T10:00:00Z'), { earlierDeadline: before! })).toMatchObject({
      phase: 'waiting',
      message: expect.stringMatching(/last one's deadline still shows/),
    });
    expect(rolloutState(timedOut('2026-12-01T10:05:00Z'), { earlierDeadline: before! }).phase).toBe('failed');
    expect(rolloutState(timedOut('2026-12-01T10:00:00Z')).phase).toBe('failed');
    expect(
      exceededDeadline(
        dep({ conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] }),
      ),
    ).toBeUndefined();
    expect(exceededDeadline(undefined)).toBeUndefined();
  });
});

describe('Service template', () => {
  const spec: AppSpec = {
    app: 'shop',
    namespace: 'ns',
    replicas: 2,
    image: `r/a@${D1}`,
    containerPort: 8080,
    progressDeadlineSeconds: 60,
  };
  const template = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ignored', labels: { team: 'cart' }, annotations: { 'prometheus.io/scrape': 'true' } },
    spec: {
      type: 'NodePort',
      clusterIP: '10.0.0.9',
      selector: { app: 'theirs' },
      ports: [
        { name: 'http', port: 8080, targetPort: 'http' },
        { name: 'metrics', port: 9090 },
      ],
    },
  };

  it("keeps ports, type, labels and annotations; names, selector and addresses are the action's", () => {
    const [live, preview] = renderServices({ ...spec, serviceTemplate: template }, 'green', {
      'deploy-suite.dev/live-colour': 'green',
    });
    for (const service of [live, preview]) {
      expect(service.spec).toMatchObject({ type: 'NodePort', ports: template.spec.ports });
      expect(service.spec).not.toHaveProperty('clusterIP');
      expect(service.metadata.labels).toMatchObject({ team: 'cart', 'app.kubernetes.io/name': 'shop' });
      expect(service.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true' });
    }
    expect(live.metadata.name).toBe('shop');
    expect((live.spec as { selector: Record<string, string> }).selector).toEqual({
      'app.kubernetes.io/name': 'shop',
      'deploy-suite.dev/colour': 'green',
    });
    expect((preview.spec as { selector: Record<string, string> }).selector).toEqual({
      'app.kubernetes.io/name': 'shop',
      'deploy-suite.dev/colour': 'blue',
    });
    expect(live.metadata.annotations).toMatchObject({ 'deploy-suite.dev/live-colour': 'green' });
  });

  it('without a template: port 80 named http to the container port', () => {
    const [live] = renderServices(spec, 'blue', {});
    expect((live.spec as { ports: unknown[] }).ports).toEqual([{ name: 'http', port: 80, targetPort: 8080 }]);
  });
});
