// The deploy and rollback orchestrations against the in-memory API (fake-api.ts): phase order, every
// failure path and what it leaves, the lock. No platform: these run in the unit suite in about a second.
// The same flows run against the real control plane in test/integration.
import { describe, expect, it } from '@jest/globals';
import { PhaseError, Phases } from '@deploy-suite/action-kit';
import {
  bluegreenDeploy,
  checkExternalConfig,
  pruneConfig,
  readHistory,
  rollback,
  splitManifests,
  type AppSpec,
  type Hook,
  type DeployOptions,
  type KubeObject,
  type RollbackOptions,
  type RollbackTarget,
} from '../src/index.js';
import { FakeKubeApi } from './fake-api.js';
import { NS, digest, failure, image, lock, selectorOf, spec, stateOf } from './app-fixtures.js';

const deployOptions = (extra: Partial<DeployOptions> = {}): DeployOptions => ({ ...lock, ...extra });
const rollbackOptions = (extra: Partial<RollbackOptions> = {}): RollbackOptions => ({
  ...lock,
  readyTimeoutMs: 2000,
  ...extra,
});

/** Two releases live: 1 on blue (kept warm), 2 on green. */
async function twoReleases(): Promise<FakeKubeApi> {
  const api = new FakeKubeApi();
  await bluegreenDeploy(api, spec(1), deployOptions(), new Phases());
  await bluegreenDeploy(api, spec(2), deployOptions(), new Phases());
  api.calls.length = 0;
  return api;
}

describe('bluegreenDeploy, phase by phase', () => {
  it('a first deploy: lock, read (and the ownership check), apply, rollout, preview, switch, record, unlock', async () => {
    const api = new FakeKubeApi();
    const phases = new Phases();
    const result = await bluegreenDeploy(api, spec(1), deployOptions(), phases);
    expect(result).toMatchObject({ noop: false, liveColour: 'blue', revision: 1, digest: digest(1) });
    expect(phases.timings.map((t) => t.name)).toEqual([
      'lock',
      'read',
      'apply',
      'rollout',
      'preview',
      'switch',
      'record',
    ]);
    const order = (line: string) => api.calls.indexOf(line);
    expect(order('POST Lease/shop-deploy')).toBe(0);
    // Nothing of the app's names exists: all looked at before anything is applied.
    for (const line of ['get Service/shop-preview', 'get Deployment/shop-blue', 'get Deployment/shop-green']) {
      expect(order(line)).toBeGreaterThan(0);
      expect(order(line)).toBeLessThan(order('apply Deployment/shop-blue'));
    }
    expect(order('watch Deployment/shop-blue')).toBeGreaterThan(order('apply Deployment/shop-blue'));
    expect(api.calls.filter((c) => c === 'apply Service/shop')).toHaveLength(1);
    expect(order('apply Service/shop')).toBeGreaterThan(
      order('watch EndpointSlice/kubernetes.io/service-name=shop-preview'),
    );
    expect(api.calls.at(-1)).toBe('delete Lease/shop-deploy');
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
    expect(selectorOf(api)).toBe('blue');
    expect(await readHistory(api, NS, 'shop')).toMatchObject([{ revision: 1, digest: digest(1), action: 'deploy' }]);
  });

  it('the next digest goes to the idle colour; the previous one stays warm behind the preview', async () => {
    const api = await twoReleases();
    expect(stateOf(api)).toMatchObject({
      liveColour: 'green',
      liveDigest: digest(2),
      previousDigest: digest(1),
      revision: 2,
    });
    expect(selectorOf(api, 'shop-preview')).toBe('blue');
    expect(api.peek<KubeObject & { spec: { replicas: number } }>('Deployment', NS, 'shop-blue')?.spec.replicas).toBe(2);
  });

  it('the live digest again changes nothing (no apply of a Deployment), and says so', async () => {
    const api = await twoReleases();
    const result = await bluegreenDeploy(api, spec(2), deployOptions(), new Phases());
    expect(result).toMatchObject({ noop: true, liveColour: 'green', revision: 2 });
    expect(api.calls.filter((c) => c.startsWith('apply Deployment'))).toEqual([]);
    expect(api.calls.filter((c) => c === 'apply Service/shop')).toEqual([]);
  });

  it('the live digest again while its colour is not ready: rolled out again and switched, not a no-op', async () => {
    const api = await twoReleases();
    api.rollout('shop-green', 'stalled');
    api.seed(api.peek('Deployment', NS, 'shop-green')!); // the controller now reports it not ready
    await new Promise((resolve) => setImmediate(resolve));
    const log: string[] = [];
    const result = await bluegreenDeploy(
      api,
      spec(2),
      deployOptions({
        log: (m) => {
          log.push(m);
          if (/not ready/.test(m)) api.rollout('shop-green', 'ready'); // it recovers once applied again
        },
      }),
      new Phases(),
    );
    expect(log).toContain(`the live Deployment is missing or not ready; deploying ${digest(2)} again`);
    expect(result).toMatchObject({ noop: false, liveColour: 'green', digest: digest(2) });
    expect(api.calls).toContain('apply Deployment/shop-green');
  });

  it('a rollout past its deadline fails in the rollout phase: live untouched, preview on the new colour, lock released', async () => {
    const api = await twoReleases();
    api.rollout('shop-blue', 'deadline-exceeded');
    const error = await failure(bluegreenDeploy(api, spec(3), deployOptions(), new Phases()));
    expect(error.message).toMatch(
      /^rollout: shop-blue the rollout exceeded its progress deadline.*live traffic stays on green/,
    );
    expect(stateOf(api)).toMatchObject({ liveColour: 'green', liveDigest: digest(2), revision: 2 });
    expect(api.calls).not.toContain('apply Service/shop');
    expect(selectorOf(api, 'shop-preview')).toBe('blue'); // shown again, on the colour it brought up
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
    // The attempt is recorded as failed (the KPIs count it); what went live is as it was.
    expect((await readHistory(api, NS, 'shop')).map((h) => `${h.action} ${h.revision}`)).toEqual([
      'deploy-failed 3',
      'deploy 2',
      'deploy 1',
    ]);
  });

  it('a preview check that refuses the colour fails the preview phase: nothing switched', async () => {
    const api = await twoReleases();
    const error = await failure(
      bluegreenDeploy(
        api,
        spec(3),
        deployOptions({ previewCheck: async () => Promise.reject(new Error('3 of 3 checks failed')) }),
        new Phases(),
      ),
    );
    expect(error.message).toMatch(
      /^preview: the new colour blue failed its check through shop-preview: 3 of 3 checks failed/,
    );
    expect(stateOf(api)?.liveDigest).toBe(digest(2));
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
  });

  it('a switch the API refuses: the error stands, nothing is recorded, the lock is released', async () => {
    const api = await twoReleases();
    api.failOn(/^apply Service\/shop$/, () => new Error('connection reset'));
    await expect(bluegreenDeploy(api, spec(3), deployOptions(), new Phases())).rejects.toThrow('connection reset');
    expect(stateOf(api)?.liveDigest).toBe(digest(2));
    expect((await readHistory(api, NS, 'shop'))[0]?.revision).toBe(2);
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
  });

  it('another holder keeps the lock: waits lock-timeout, then fails in the lock phase with nothing applied', async () => {
    const api = await twoReleases();
    api.seed({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'shop-deploy', namespace: NS },
      spec: { holderIdentity: 'acme/shop/actions/runs/2', leaseDurationSeconds: 30 },
    } as KubeObject);
    const error = await failure(bluegreenDeploy(api, spec(3), deployOptions(), new Phases()));
    expect(error.message).toMatch(
      /^lock: another deploy or rollback of shop holds the lock \(acme\/shop\/actions\/runs\/2\)/,
    );
    expect(api.calls.filter((c) => c.startsWith('apply'))).toEqual([]);
    expect(
      api.peek<KubeObject & { spec: { holderIdentity: string } }>('Lease', NS, 'shop-deploy')?.spec.holderIdentity,
    ).toBe('acme/shop/actions/runs/2');
  });

  it('a lock taken over during the run stops it before the switch', async () => {
    const api = await twoReleases();
    const steal = async () => {
      const lease = api.peek<KubeObject & { spec: object }>('Lease', NS, 'shop-deploy')!;
      await api.request('PUT', `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/shop-deploy`, {
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'acme/shop/actions/runs/9' } },
      });
      await new Promise((resolve) => setTimeout(resolve, 1200)); // the next renewal (every second) sees it
    };
    const error = await failure(
      bluegreenDeploy(api, spec(3), deployOptions({ leaseSeconds: 1, previewCheck: steal }), new Phases()),
    );
    expect(error.message).toMatch(/^switch: the deploy lock of shop was lost .*held by 'acme\/shop\/actions\/runs\/9'/);
    expect(stateOf(api)?.liveDigest).toBe(digest(2));
    // Not ours any more: left to its holder.
    expect(
      api.peek<KubeObject & { spec: { holderIdentity: string } }>('Lease', NS, 'shop-deploy')?.spec.holderIdentity,
    ).toBe('acme/shop/actions/runs/9');
  });

  it('a first deploy over a Service the suite did not make stops in the read phase, before any apply', async () => {
    const api = new FakeKubeApi();
    api.seed({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'shop', namespace: NS, managedFields: [{ manager: 'helm', operation: 'Apply' }] },
      spec: { selector: { app: 'shop' } },
    } as KubeObject);
    const error = await failure(bluegreenDeploy(api, spec(1), deployOptions(), new Phases()));
    expect(error.message).toMatch(
      /^read: the first deploy of shop would take over .*Service shop-ns\/shop \(written by helm\)/,
    );
    expect(api.calls.filter((c) => c.startsWith('apply'))).toEqual([]);
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
    const forced = await bluegreenDeploy(api, spec(1), deployOptions({ force: true }), new Phases());
    expect(forced.liveColour).toBe('blue');
  });
});

describe('rollback, path by path', () => {
  const run = (api: FakeKubeApi, target: RollbackTarget, extra: Partial<RollbackOptions> = {}, phases = new Phases()) =>
    rollback(api, { namespace: NS, app: 'shop' }, target, rollbackOptions(extra), phases);

  it('to the warm previous colour: a selector switch, recorded, the preview on the colour rolled away from', async () => {
    const api = await twoReleases();
    const phases = new Phases();
    const result = await run(api, { kind: 'previous' }, {}, phases);
    expect(result).toMatchObject({
      noop: false,
      how: 'switch',
      liveColour: 'blue',
      liveDigest: digest(1),
      revision: 3,
    });
    expect(phases.timings.map((t) => t.name)).toEqual(['lock', 'read', 'switch', 'record']);
    expect(selectorOf(api)).toBe('blue');
    expect(selectorOf(api, 'shop-preview')).toBe('green');
    expect(stateOf(api)).toMatchObject({ liveDigest: digest(1), previousDigest: digest(2), revision: 3 });
    expect((await readHistory(api, NS, 'shop'))[0]).toMatchObject({
      revision: 3,
      action: 'rollback',
      digest: digest(1),
    });
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
  });

  it('verifies every image of the target pod spec before anything changes; a refusal leaves live as it was', async () => {
    const api = await twoReleases();
    const asked: string[][] = [];
    const error = await failure(
      run(
        api,
        { kind: 'previous' },
        {
          verifyImages: async (images) => {
            asked.push(images);
            throw new PhaseError('verify', 'unsigned');
          },
        },
      ),
    );
    expect(error.message).toBe('verify: unsigned');
    expect(asked).toEqual([[image(1)]]);
    expect(api.calls.filter((c) => c.startsWith('mergePatch') || c.startsWith('apply'))).toEqual([]);
    expect(stateOf(api)?.liveDigest).toBe(digest(2));
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
  });

  it.each([
    ['the previous-digest annotation', 'previous'],
    ['a history entry', 'revision'],
  ])('refuses %s that is not a digest, before the gate is even asked', async (_name, kind) => {
    const api = await twoReleases();
    if (kind === 'previous') {
      await api.mergePatch('v1', 'Service', NS, 'shop', {
        metadata: { annotations: { 'deploy-suite.dev/previous-digest': 'sha256:../evil' } },
      });
    } else {
      const map = api.peek<KubeObject & { data: { history: string } }>('ConfigMap', NS, 'shop-deploy-history')!;
      const entries = JSON.parse(map.data.history) as { revision: number; digest: string }[];
      entries.find((e) => e.revision === 1)!.digest = 'SHA256:ABC';
      await api.mergePatch('v1', 'ConfigMap', NS, 'shop-deploy-history', {
        data: { history: JSON.stringify(entries) },
      });
    }
    let asked = false;
    const target: RollbackTarget = kind === 'previous' ? { kind: 'previous' } : { kind: 'revision', revision: 1 };
    const error = await failure(run(api, target, { verifyImages: async () => void (asked = true) }));
    expect(error.message).toMatch(/^read: .* holds '.*', not a digest .*Nothing was rolled back/);
    expect(asked).toBe(false);
    expect(selectorOf(api)).toBe('green');
  });

  it('to the revision live now after a scale-down entry: nothing to do', async () => {
    const api = await twoReleases();
    const map = api.peek<KubeObject & { data: { history: string } }>('ConfigMap', NS, 'shop-deploy-history')!;
    const entries = JSON.parse(map.data.history) as object[];
    entries.unshift({
      revision: 2,
      digest: digest(1),
      colour: 'blue',
      action: 'scale-down',
      at: '2026-12-01T00:00:00Z',
    });
    await api.mergePatch('v1', 'ConfigMap', NS, 'shop-deploy-history', { data: { history: JSON.stringify(entries) } });
    api.calls.length = 0;
    const result = await run(api, { kind: 'revision', revision: 2 });
    expect(result).toMatchObject({ noop: true, how: 'none', liveDigest: digest(2) });
    expect(api.calls.filter((c) => c.startsWith('mergePatch') || c.startsWith('apply'))).toEqual([]);
  });

  it('an automatic rollback after a newer deploy landed (the re-check under the lock): nothing rolled back', async () => {
    const api = await twoReleases();
    await bluegreenDeploy(api, spec(3), deployOptions(), new Phases()); // landed while the analysis ran
    api.calls.length = 0;
    const error = await failure(run(api, { kind: 'previous' }, { expectLiveDigest: digest(2) }));
    expect(error.message).toMatch(/^read: sha256:3+ is live now, not sha256:2+/);
    expect(stateOf(api)?.liveDigest).toBe(digest(3));
    expect(api.calls.filter((c) => c.startsWith('mergePatch') || c.startsWith('apply'))).toEqual([]);
  });

  it('to a scaled-down colour: scaled up, waited for, then switched', async () => {
    const api = await twoReleases();
    await api.mergePatch('apps/v1', 'Deployment', NS, 'shop-blue', { spec: { replicas: 0 } });
    api.calls.length = 0;
    const phases = new Phases();
    const result = await run(api, { kind: 'previous' }, {}, phases);
    expect(result).toMatchObject({ how: 'scaled-up', liveColour: 'blue' });
    expect(phases.timings.map((t) => t.name)).toEqual(['lock', 'read', 'scale-up', 'switch', 'record']);
    expect(api.peek<KubeObject & { spec: { replicas: number } }>('Deployment', NS, 'shop-blue')?.spec.replicas).toBe(2);
    expect(api.calls.indexOf('mergePatch Deployment/shop-blue')).toBeLessThan(
      api.calls.indexOf('mergePatch Service/shop'),
    );
  });

  it('a scaled-down colour that does not come back: the switch never happens', async () => {
    const api = await twoReleases();
    await api.mergePatch('apps/v1', 'Deployment', NS, 'shop-blue', { spec: { replicas: 0 } });
    api.rollout('shop-blue', 'stalled');
    const error = await failure(run(api, { kind: 'previous' }, { readyTimeoutMs: 300 }));
    expect(error.message).toMatch(/^scale-up: shop-blue did not get 2 ready endpoints .*live traffic stays on green/);
    expect(selectorOf(api)).toBe('green');
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined();
  });

  it('to a digest no colour runs: deployed to the idle colour under the same lock, then switched', async () => {
    const api = await twoReleases();
    const asked: string[][] = [];
    const result = await run(
      api,
      { kind: 'digest', digest: digest(7) },
      { verifyImages: async (i) => void asked.push(i) },
    );
    expect(result).toMatchObject({ how: 'deployed', liveColour: 'blue', liveDigest: digest(7) });
    expect(asked).toEqual([[image(7)]]);
    expect(api.calls.filter((c) => c.startsWith('POST Lease'))).toHaveLength(1); // one lock for both
    expect((await readHistory(api, NS, 'shop'))[0]).toMatchObject({ digest: digest(7), action: 'rollback' });
  });

  it('an idle colour whose annotation names the target but whose pod spec runs another image is deployed again, not switched to', async () => {
    const api = await twoReleases();
    await api.mergePatch('apps/v1', 'Deployment', NS, 'shop-blue', {
      spec: { template: { spec: { containers: [{ name: 'shop', image: 'registry.example/evil@' + digest(9) }] } } },
    });
    const asked: string[][] = [];
    const result = await run(api, { kind: 'previous' }, { verifyImages: async (i) => void asked.push(i) });
    expect(result.how).toBe('deployed');
    expect(asked).toEqual([[image(1)]]);
    const blue = api.peek<KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } }>(
      'Deployment',
      NS,
      'shop-blue',
    );
    expect(blue?.spec.template.spec.containers[0]?.image).toBe(image(1));
  });
});

describe('a revision is the image and its configuration', () => {
  const withConfig = (n: number, mode: string, extra: Partial<AppSpec> = {}): AppSpec => {
    const app = splitManifests(
      [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'shop' },
          spec: {
            template: {
              metadata: { labels: { app: 'shop' } },
              spec: { containers: [{ name: 'web', image: 'x', envFrom: [{ configMapRef: { name: 'shop-env' } }] }] },
            },
          },
        },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop-env' }, data: { MODE: mode } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'shop' } },
      ],
      { app: 'shop', namespace: NS },
    );
    return spec(n, { deploymentTemplate: app.deployment, config: app.config, shared: app.shared, ...extra });
  };
  const envOf = (api: FakeKubeApi, colour: string) => {
    type D = { spec: { template: { spec: { containers: { envFrom: { configMapRef: { name: string } }[] }[] } } } };
    const name = api.peek<KubeObject & D>('Deployment', NS, `shop-${colour}`)!.spec.template.spec.containers[0]!
      .envFrom[0]!.configMapRef.name;
    return (api.peek('ConfigMap', NS, name) as { data?: Record<string, string> } | undefined)?.data?.MODE;
  };

  it('a change of configuration alone deploys to the idle colour; the same image and configuration again is a no-op', async () => {
    const api = new FakeKubeApi();
    const first = await bluegreenDeploy(api, withConfig(1, 'a'), deployOptions(), new Phases());
    const second = await bluegreenDeploy(api, withConfig(1, 'b'), deployOptions(), new Phases());
    expect(second).toMatchObject({ noop: false, liveColour: 'green', revision: 2, change: 'config' });
    expect(second.config).not.toBe(first.config);
    expect([envOf(api, 'blue'), envOf(api, 'green')]).toEqual(['a', 'b']);
    expect(stateOf(api)).toMatchObject({ liveConfig: second.config, previousConfig: first.config });
    const history = await readHistory(api, NS, 'shop');
    expect(history.map((h) => h.config)).toEqual([second.config, first.config]);
    api.calls.length = 0;
    const again = await bluegreenDeploy(api, withConfig(1, 'b'), deployOptions(), new Phases());
    expect(again).toMatchObject({ noop: true, liveColour: 'green', revision: 2 });
    expect(api.calls.filter((c) => c.startsWith('apply Deployment'))).toEqual([]);
    // The shared objects are applied on a no-op run too.
    expect(api.calls).toContain('apply ServiceAccount/shop');
  });

  it('one configuration deployed with another progress deadline or replicas under an HPA keeps its first snapshot', async () => {
    const api = new FakeKubeApi();
    const hpa: KubeObject = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'shop' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'shop' }, minReplicas: 2, maxReplicas: 10 },
    };
    const first = await bluegreenDeploy(api, withConfig(1, 'a', { hpa }), deployOptions(), new Phases());
    const second = await bluegreenDeploy(
      api,
      withConfig(2, 'a', { hpa, progressDeadlineSeconds: 60, replicas: 5 }),
      deployOptions(),
      new Phases(),
    );
    expect(second.config).toBe(first.config);
    expect(second).toMatchObject({ noop: false, change: 'image' });
  });

  it('a rollback to the previous revision of the same image brings its configuration back', async () => {
    const api = new FakeKubeApi();
    await bluegreenDeploy(api, withConfig(1, 'a'), deployOptions(), new Phases());
    const second = await bluegreenDeploy(api, withConfig(1, 'b'), deployOptions(), new Phases());
    const back = await rollback(
      api,
      { namespace: NS, app: 'shop' },
      { kind: 'previous' },
      rollbackOptions(),
      new Phases(),
    );
    expect(back).toMatchObject({ noop: false, liveColour: 'blue', how: 'switch', liveDigest: digest(1) });
    expect(envOf(api, stateOf(api)!.liveColour)).toBe('a');
    expect(stateOf(api)).toMatchObject({ previousConfig: second.config });
    expect(stateOf(api)!.liveConfig).not.toBe(second.config);
  });

  it('a rollback to a revision no colour runs deploys its recorded configuration, not the live one', async () => {
    const api = new FakeKubeApi();
    await bluegreenDeploy(api, withConfig(1, 'a'), deployOptions(), new Phases());
    await bluegreenDeploy(api, withConfig(2, 'b'), deployOptions(), new Phases());
    await bluegreenDeploy(api, withConfig(3, 'c'), deployOptions(), new Phases());
    // Revision 1 ran on blue, which revision 3 now runs: only its snapshot and versioned ConfigMap remain.
    const back = await rollback(
      api,
      { namespace: NS, app: 'shop' },
      { kind: 'revision', revision: 1 },
      rollbackOptions(),
      new Phases(),
    );
    expect(back).toMatchObject({ how: 'deployed', liveColour: 'green', liveDigest: digest(1) });
    expect(envOf(api, 'green')).toBe('a');
    expect(envOf(api, 'blue')).toBe('c');
  });

  it('prunes versioned ConfigMaps and snapshots no colour and no kept history entry uses', async () => {
    const api = new FakeKubeApi();
    for (let n = 1; n <= 3; n++) await bluegreenDeploy(api, withConfig(n, `m${n}`), deployOptions(), new Phases());
    const versioned = () =>
      ['m1', 'm2', 'm3'].filter((m) => api.peek('ConfigMap', NS, splitName(withConfig(1, m))) !== undefined);
    expect(versioned()).toEqual(['m1', 'm2', 'm3']);
    // History bound of one entry: keep only what the colours run (m2 on green, m3 on blue).
    const history = (await readHistory(api, NS, 'shop')).slice(0, 1);
    const pruned = await pruneConfig(api, { namespace: NS, app: 'shop' }, history);
    expect(versioned()).toEqual(['m2', 'm3']);
    expect(pruned.deleted).toEqual(
      expect.arrayContaining([
        `ConfigMap ${splitName(withConfig(1, 'm1'))}`,
        expect.stringMatching(/^ConfigMap shop-config-/),
      ]),
    );
    expect(pruned.skipped).toEqual([]);
  });

  it('a Secret the pod template names that nothing holds is refused, unless optional or present', async () => {
    const api = new FakeKubeApi();
    const refs = [
      { kind: 'Secret' as const, name: 'db-password', optional: false },
      { kind: 'ConfigMap' as const, name: 'flags', optional: true },
    ];
    await expect(checkExternalConfig(api, NS, refs)).rejects.toThrow(
      /names Secret db-password, which neither the manifests nor namespace shop-ns hold/,
    );
    api.seed({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-password', namespace: NS } });
    await expect(checkExternalConfig(api, NS, refs)).resolves.toBeUndefined();
    expect(api.calls).toEqual(['get Secret/db-password', 'get Secret/db-password']);
  });

  it('with an HPA the new colour starts at the live colour’s current replicas, and each colour has its own HPA', async () => {
    const hpa: KubeObject = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'shop' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'shop' }, minReplicas: 2, maxReplicas: 10 },
    };
    const api = new FakeKubeApi();
    await bluegreenDeploy(api, withConfig(1, 'a', { hpa }), deployOptions(), new Phases());
    // The HPA scaled blue up to 6 under load.
    await api.mergePatch('apps/v1', 'Deployment', NS, 'shop-blue', { spec: { replicas: 6 } });
    await bluegreenDeploy(api, withConfig(2, 'a', { hpa }), deployOptions(), new Phases());
    const replicas = (c: string) =>
      api.peek<KubeObject & { spec: { replicas: number } }>('Deployment', NS, `shop-${c}`)!.spec.replicas;
    expect(replicas('green')).toBe(6);
    expect(api.peek('HorizontalPodAutoscaler', NS, 'shop-green')).toMatchObject({
      spec: { scaleTargetRef: { name: 'shop-green' }, minReplicas: 2 },
    });
    expect(api.peek('HorizontalPodAutoscaler', NS, 'shop-blue')).toMatchObject({
      spec: { scaleTargetRef: { name: 'shop-blue' } },
    });
  });
});

/** The versioned name of the one ConfigMap of a spec. */
function splitName(s: AppSpec): string {
  return s.config![0]!.metadata.name;
}

describe('pre-switch hooks', () => {
  const hook = (name: string, labels: Record<string, string> = {}): Hook => ({
    event: 'pre-switch',
    job: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'm', image: '' }] } },
      },
    },
  });

  it('run after the preview checks and before the switch, with the release image; a re-run does not run them again', async () => {
    const api = await twoReleases();
    const phases = new Phases();
    const result = await bluegreenDeploy(
      api,
      spec(3, { hooks: [hook('migrate'), hook('smoke')] }),
      deployOptions(),
      phases,
    );
    expect(phases.timings.map((t) => t.name)).toEqual([
      'lock',
      'read',
      'apply',
      'rollout',
      'preview',
      'hooks',
      'switch',
      'record',
    ]);
    expect(result.hooks?.map((h) => [h.name, h.outcome])).toEqual([
      ['migrate-r3', 'complete'],
      ['smoke-r3', 'complete'],
    ]);
    const job = api.peek<
      KubeObject & {
        spec: {
          activeDeadlineSeconds: number;
          template: { spec: { containers: { image: string; env: { name: string; value: string }[] }[] } };
        };
      }
    >('Job', NS, 'migrate-r3')!;
    expect(job.spec.template.spec.containers[0]!.image).toBe(image(3));
    expect(job.spec.template.spec.containers[0]!.env).toEqual(
      expect.arrayContaining([
        { name: 'DEPLOY_SUITE_COLOUR', value: 'blue' },
        { name: 'DEPLOY_SUITE_PREVIEW_URL', value: `http://shop-preview.${NS}.svc:80` },
      ]),
    );
    expect(job.spec.activeDeadlineSeconds).toBe(300);
    const order = (line: string) => api.calls.indexOf(line);
    expect(order('apply Job/migrate-r3')).toBeLessThan(order('apply Service/shop'));
    expect(order('apply Job/migrate-r3')).toBeGreaterThan(order('apply Deployment/shop-blue'));
  });

  it('a failing hook stops the release in the hooks phase: live untouched, the new colour behind the preview, later hooks not run', async () => {
    const api = await twoReleases();
    const error = await failure(
      bluegreenDeploy(
        api,
        spec(3, { hooks: [hook('migrate', { 'deploy-suite.test/fail': 'true' }), hook('smoke')] }),
        deployOptions(),
        new Phases(),
      ),
    );
    expect(error.phase).toBe('hooks');
    expect(error.message).toMatch(
      /the pre-switch hook Job migrate-r3 failed \(BackoffLimitExceeded: .*\); live traffic stays on green, blue stays up behind the preview/,
    );
    expect(selectorOf(api)).toBe('green');
    expect(selectorOf(api, 'shop-preview')).toBe('blue');
    expect(stateOf(api)).toMatchObject({ liveDigest: digest(2), revision: 2 });
    expect(api.peek('Job', NS, 'smoke-r3')).toBeUndefined();
    expect(api.peek('Lease', NS, 'shop-deploy')).toBeUndefined(); // the lock released
  });

  it('a re-run after a failed hook replaces its Job and converges once it passes', async () => {
    const api = await twoReleases();
    await failure(
      bluegreenDeploy(
        api,
        spec(3, { hooks: [hook('migrate', { 'deploy-suite.test/fail': 'true' })] }),
        deployOptions(),
        new Phases(),
      ),
    );
    // The same revision again (the fix is elsewhere, e.g. the database): the failed Job is replaced.
    api.calls.length = 0;
    const result = await bluegreenDeploy(api, spec(3, { hooks: [hook('migrate')] }), deployOptions(), new Phases());
    expect(api.calls).toContain('delete Job/migrate-r3');
    expect(result).toMatchObject({ liveColour: 'blue', revision: 3 });
    expect(result.hooks?.[0]).toMatchObject({ name: 'migrate-r3', outcome: 'complete' });
  });

  it('a hook that never finishes times out: the release stops, live untouched', async () => {
    const api = await twoReleases();
    const error = await failure(
      bluegreenDeploy(
        api,
        spec(3, { hooks: [hook('migrate', { 'deploy-suite.test/hold-not-ready': 'true' })] }),
        deployOptions({ hookTimeoutSeconds: 1 }),
        new Phases(),
      ),
    );
    expect(error.message).toMatch(/migrate-r3 timed out \(not finished in 1 s\)/);
    expect(error.fix).toMatch(/raise hook-timeout/);
    expect(selectorOf(api)).toBe('green');
  }, 30_000);
});

describe('post-rollback hooks', () => {
  const cleanup = (labels: Record<string, string> = {}): Hook => ({
    event: 'post-rollback',
    job: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'restore-cache' },
      spec: {
        template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: '' }] } },
      },
    },
  });

  it('run after the switch back, from the snapshot of the revision rolled back to; pre-switch hooks are not run again', async () => {
    const api = new FakeKubeApi();
    const migrate: Hook = { event: 'pre-switch', job: { ...cleanup().job, metadata: { name: 'migrate' } } };
    await bluegreenDeploy(api, spec(1, { hooks: [cleanup(), migrate] }), deployOptions(), new Phases());
    await bluegreenDeploy(api, spec(2, { hooks: [cleanup(), migrate] }), deployOptions(), new Phases());
    const phases = new Phases();
    const back = await rollback(api, { namespace: NS, app: 'shop' }, { kind: 'previous' }, rollbackOptions(), phases);
    expect(back).toMatchObject({ how: 'switch', liveColour: 'blue', revision: 3 });
    expect(back.hooks).toEqual([expect.objectContaining({ name: 'restore-cache-r3', outcome: 'complete' })]);
    expect(phases.timings.map((t) => t.name).slice(-2)).toEqual(['record', 'post-rollback']);
    expect(api.peek('Job', NS, 'migrate-r3')).toBeUndefined();
    // Redeployed from history (revision 1 runs on no colour once 4 and 5 took both): its migration is
    // not run again, its post-rollback hook is.
    await bluegreenDeploy(api, spec(4, { hooks: [cleanup(), migrate] }), deployOptions(), new Phases());
    await bluegreenDeploy(api, spec(5, { hooks: [cleanup(), migrate] }), deployOptions(), new Phases());
    const again = await rollback(
      api,
      { namespace: NS, app: 'shop' },
      { kind: 'revision', revision: 1 },
      rollbackOptions(),
      new Phases(),
    );
    expect(again).toMatchObject({ how: 'deployed', revision: 6 });
    expect(again.hooks).toEqual([expect.objectContaining({ name: 'restore-cache-r6', outcome: 'complete' })]);
    expect(api.peek('Job', NS, 'migrate-r6')).toBeUndefined();
  });

  it('a failing post-rollback hook fails the run, and says the rollback stands', async () => {
    const api = new FakeKubeApi();
    await bluegreenDeploy(
      api,
      spec(1, { hooks: [cleanup({ 'deploy-suite.test/fail': 'true' })] }),
      deployOptions(),
      new Phases(),
    );
    await bluegreenDeploy(api, spec(2), deployOptions(), new Phases());
    const error = await failure(
      rollback(api, { namespace: NS, app: 'shop' }, { kind: 'previous' }, rollbackOptions(), new Phases()),
    );
    expect(error.phase).toBe('post-rollback');
    expect(error.message).toMatch(
      /rolled back: blue serves sha256:1+ \(revision 3\); then the post-rollback hook Job restore-cache-r3 failed/,
    );
    expect(selectorOf(api)).toBe('blue');
  });
});
