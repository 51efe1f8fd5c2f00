// An app as users ship it, split into the blue-green parts; a revision as digest plus configuration.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ManifestError,
  addAppSecret,
  appSecretObject,
  defaultDeploymentTemplate,
  VERSIONED_LABEL,
  canonicalJson,
  configHash,
  configReferences,
  diffObjects,
  manifestAccess,
  parseManifests,
  planDeploy,
  recordDiscovery,
  readLiveState,
  renderColourObjects,
  renderDeployment,
  renderSnapshot,
  secretValues,
  sourceKind,
  splitManifests,
  stateAnnotations,
  switchedState,
  type AppSpec,
  type KubeObject,
} from '../src/index.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;

const labels = { app: 'shop' };
const deployment = (extra: Record<string, unknown> = {}, name = 'shop'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 3,
    selector: { matchLabels: labels },
    template: {
      metadata: { labels },
      spec: {
        serviceAccountName: 'shop',
        containers: [
          {
            name: 'web',
            image: 'shop:dev',
            envFrom: [{ configMapRef: { name: 'shop-env' } }],
            env: [
              { name: 'DB', valueFrom: { secretKeyRef: { name: 'shop-db', key: 'url' } } },
              { name: 'FLAG', valueFrom: { configMapKeyRef: { name: 'flags', key: 'x', optional: true } } },
            ],
          },
        ],
        volumes: [{ name: 'conf', configMap: { name: 'shop-files' } }],
        ...extra,
      },
    },
  },
});
const configMap = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data,
});
const secret = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  type: 'Opaque',
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});
const service: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'shop' },
  spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
};
const hpa = (target = 'shop'): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'shop' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target }, minReplicas: 2, maxReplicas: 9 },
});
const pdb: KubeObject = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'shop' },
  spec: { minAvailable: 1, selector: { matchLabels: labels } },
};
const ingress: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'shop' },
  spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'shop' } } }] } }] },
};
const serviceAccount: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'shop' } };
const appObjects = () => [
  deployment(),
  service,
  configMap('shop-env', { MODE: 'prod' }),
  configMap('shop-files', { 'app.conf': 'x=1' }),
  secret('shop-db', { url: 'postgres://u:hunter2@db/shop' }),
  hpa(),
  pdb,
  ingress,
  serviceAccount,
];
const split = (objects: KubeObject[], extra: { deployment?: string } = {}) =>
  splitManifests(objects, { app: 'shop', namespace: 'prod', ...extra });

const podOf = (d: KubeObject) =>
  (d.spec as { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } }).template.spec;

describe('splitManifests', () => {
  it('takes the Deployment, its Service, HPA and PDB, versions its ConfigMaps and Secrets, and shares the rest', () => {
    const app = split(appObjects());
    expect(app.deployment.metadata.name).toBe('shop');
    expect(app.service).toBe(service);
    expect(app.hpa?.metadata.name).toBe('shop');
    expect(app.pdbs.map((p) => p.metadata.name)).toEqual(['shop']);
    expect(app.shared.map((o) => `${o.kind}/${o.metadata.name}/${o.metadata.namespace}`)).toEqual([
      'Ingress/shop/prod',
      'ServiceAccount/shop/prod',
    ]);
    expect(app.config.map((o) => o.metadata.name)).toEqual([
      expect.stringMatching(/^shop-db-[a-f0-9]{10}$/),
      expect.stringMatching(/^shop-env-[a-f0-9]{10}$/),
      expect.stringMatching(/^shop-files-[a-f0-9]{10}$/),
    ]);
    for (const object of app.config) {
      expect((object as { immutable?: boolean }).immutable).toBe(true);
      expect(object.metadata.namespace).toBe('prod');
      expect(object.metadata.labels?.[VERSIONED_LABEL]).toBe(object.metadata.name.replace(/-[a-f0-9]{10}$/, ''));
    }
    // The optional reference to a ConfigMap nobody ships is external, and optional.
    expect(app.external).toEqual([{ kind: 'ConfigMap', name: 'flags', optional: true }]);
  });

  it('rewrites every reference of the pod template to the versioned names, leaving the input alone', () => {
    const objects = appObjects();
    const app = split(objects);
    const names = Object.fromEntries(app.config.map((o) => [o.metadata.labels![VERSIONED_LABEL], o.metadata.name]));
    const pod = podOf(app.deployment);
    const container = pod.containers[0] as {
      envFrom: { configMapRef: { name: string } }[];
      env: { valueFrom: { secretKeyRef?: { name: string }; configMapKeyRef?: { name: string } } }[];
    };
    expect(container.envFrom[0]!.configMapRef.name).toBe(names['shop-env']);
    expect(container.env[0]!.valueFrom.secretKeyRef!.name).toBe(names['shop-db']);
    expect(container.env[1]!.valueFrom.configMapKeyRef!.name).toBe('flags');
    expect((pod.volumes as { configMap: { name: string } }[])[0]!.configMap.name).toBe(names['shop-files']);
    expect(podOf(objects[0]!).volumes).toEqual([{ name: 'conf', configMap: { name: 'shop-files' } }]);
  });

  it('finds references in init containers, secret volumes and projected volumes', () => {
    const d = deployment({
      initContainers: [{ name: 'migrate', image: 'm', envFrom: [{ secretRef: { name: 'init-secret' } }] }],
      volumes: [
        { name: 's', secret: { secretName: 'tls', optional: true } },
        { name: 'p', projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-s' } }] } },
      ],
    });
    expect(
      configReferences(d)
        .map((r) => `${r.kind}/${r.name}/${r.optional}`)
        .sort(),
    ).toEqual([
      'ConfigMap/flags/true',
      'ConfigMap/proj-cm/false',
      'ConfigMap/shop-env/false',
      'Secret/init-secret/false',
      'Secret/proj-s/false',
      'Secret/shop-db/false',
      'Secret/tls/true',
    ]);
    const app = split([d, configMap('proj-cm', { a: '1' }), secret('tls', { crt: 'c' })]);
    const volumes = podOf(app.deployment).volumes as {
      secret?: { secretName: string };
      projected?: { sources: { configMap?: { name: string } }[] };
    }[];
    expect(volumes[0]!.secret!.secretName).toMatch(/^tls-[a-f0-9]{10}$/);
    expect(volumes[1]!.projected!.sources[0]!.configMap!.name).toMatch(/^proj-cm-[a-f0-9]{10}$/);
  });

  it('names a configuration by its content: the same content the same name, any change a new one', () => {
    const a = split(appObjects()).config.map((o) => o.metadata.name);
    const b = split(appObjects()).config.map((o) => o.metadata.name);
    expect(a).toEqual(b);
    const changed = appObjects();
    changed[2] = configMap('shop-env', { MODE: 'canary' });
    const c = split(changed).config.map((o) => o.metadata.name);
    expect(c[1]).not.toBe(a[1]);
    expect([c[0], c[2]]).toEqual([a[0], a[2]]);
  });

  it('keeps a ConfigMap another workload also uses, beside its versioned copy', () => {
    const worker = deployment({}, 'worker');
    (worker.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels = {
      app: 'worker',
    };
    const app = split([...appObjects(), worker], { deployment: 'shop' });
    expect(app.shared.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining(['Deployment/worker', 'ConfigMap/shop-env', 'Secret/shop-db']),
    );
    expect(app.config).toHaveLength(3);
  });

  it('refuses two Deployments when none is named, and a name none has', () => {
    const two = [...appObjects(), deployment({}, 'worker')];
    expect(() => split(two)).toThrow(/2 Deployments \(shop, worker\) and none is named/);
    expect(() => split(two, { deployment: 'web' })).toThrow(/no Deployment named web \(they hold shop, worker\)/);
    expect(() => split([service])).toThrow(/hold no Deployment/);
  });

  it('refuses an HPA of a Deployment the manifests do not hold, and two HPAs of the app', () => {
    expect(() => split([...appObjects().filter((o) => o.kind !== 'HorizontalPodAutoscaler'), hpa('api')])).toThrow(
      /HorizontalPodAutoscaler shop scales Deployment api, which the manifests do not hold/,
    );
    const second = { ...hpa(), metadata: { name: 'shop-2' } };
    expect(() => split([...appObjects(), second])).toThrow(/2 HorizontalPodAutoscalers scale Deployment shop/);
  });

  it('refuses two Services of the pods, a Service not named like the app, and another namespace', () => {
    expect(() => split([...appObjects(), { ...service, metadata: { name: 'shop-2' } }])).toThrow(
      /2 Services select the pods/,
    );
    expect(() => split([deployment(), { ...service, metadata: { name: 'web' } }])).toThrow(
      /Service of the app is named web.*set app to web/,
    );
    expect(() => split([deployment(), { ...ingress, metadata: { name: 'x', namespace: 'other' } }])).toThrow(
      /Ingress x is in namespace other, not prod/,
    );
  });

  it('refuses objects without a kind or a name, and a Deployment without containers', () => {
    expect(() => split([{ metadata: { name: 'x' } } as unknown as KubeObject])).toThrow(ManifestError);
    expect(() => split([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} } as unknown as KubeObject])).toThrow(
      /ConfigMap of the manifests has no metadata.name/,
    );
    const empty = deployment();
    podOf(empty).containers = [];
    expect(() => split([empty])).toThrow(/has no containers/);
  });

  it('leaves cluster-scoped objects without a namespace', () => {
    const crd: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
    };
    const app = split([deployment(), crd]);
    expect(app.shared[0]!.metadata.namespace).toBeUndefined();
  });
});

const specOf = (extra: Partial<AppSpec> = {}): AppSpec => {
  const app = split(appObjects());
  return {
    app: 'shop',
    namespace: 'prod',
    replicas: 3,
    image: `shop@${D1}`,
    containerPort: 8080,
    progressDeadlineSeconds: 300,
    deploymentTemplate: app.deployment,
    serviceTemplate: app.service!,
    config: app.config,
    hpa: app.hpa!,
    pdbs: app.pdbs,
    shared: app.shared,
    ...extra,
  };
};

describe('configHash: what a colour runs besides its image', () => {
  it('is the same for the same configuration, whatever the image, the progress deadline or key order', () => {
    const base = configHash(specOf());
    expect(base).toMatch(/^[a-f0-9]{10}$/);
    expect(configHash(specOf({ image: `shop@${D2}` }))).toBe(base);
    expect(configHash(specOf({ progressDeadlineSeconds: 30 }))).toBe(base);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });

  it('changes with the pod template, a versioned ConfigMap, the HPA or a PDB', () => {
    const base = configHash(specOf());
    const changedEnv = specOf();
    podOf(changedEnv.deploymentTemplate!).containers[0]!.resources = { limits: { cpu: '1' } };
    expect(configHash(changedEnv)).not.toBe(base);
    const objects = appObjects();
    objects[2] = configMap('shop-env', { MODE: 'canary' });
    expect(configHash(specOf({ deploymentTemplate: split(objects).deployment }))).not.toBe(base);
    expect(configHash(specOf({ hpa: { ...hpa(), spec: { ...(hpa().spec as object), maxReplicas: 4 } } }))).not.toBe(
      base,
    );
    expect(configHash(specOf({ pdbs: [] }))).not.toBe(base);
  });

  it('counts replicas only when no HPA owns them', () => {
    expect(configHash(specOf({ replicas: 7 }))).toBe(configHash(specOf()));
    const withoutHpa = { ...specOf(), hpa: undefined } as AppSpec;
    expect(configHash({ ...withoutHpa, replicas: 7 })).not.toBe(configHash(withoutHpa));
  });

  it('is recorded on the Deployment it renders', () => {
    const d = renderDeployment(specOf(), 'green', 4, 'abcdef0123');
    expect(d.metadata.annotations?.['deploy-suite.dev/config']).toBe('abcdef0123');
    expect(renderDeployment(specOf(), 'green', 4).metadata.annotations?.['deploy-suite.dev/config']).toBeUndefined();
  });
});

describe('a revision is the digest and the configuration', () => {
  const live = { liveColour: 'blue' as const, liveDigest: D1, revision: 3, liveConfig: 'aaaaaaaaaa' };

  it('the same digest and configuration is a no-op; either one changed deploys to the idle colour', () => {
    expect(planDeploy(live, D1, 'aaaaaaaaaa')).toMatchObject({ kind: 'noop', colour: 'blue', revision: 3 });
    expect(planDeploy(live, D1, 'bbbbbbbbbb')).toMatchObject({
      kind: 'deploy',
      target: 'green',
      revision: 4,
      change: 'config',
      previous: { colour: 'blue', digest: D1, config: 'aaaaaaaaaa' },
    });
    expect(planDeploy(live, D2, 'aaaaaaaaaa')).toMatchObject({ change: 'image' });
    expect(planDeploy(live, D2, 'bbbbbbbbbb')).toMatchObject({ change: 'image and config' });
  });

  it('a live state without a recorded configuration counts as a change; no configuration given compares digests', () => {
    const old = { ...live, liveConfig: undefined };
    expect(planDeploy(old, D1, 'aaaaaaaaaa')).toMatchObject({ kind: 'deploy', change: 'config' });
    expect(planDeploy(old, D1)).toMatchObject({ kind: 'noop' });
  });

  it('the live and previous configuration round-trip through the Service annotations', () => {
    const plan = planDeploy(live, D2, 'bbbbbbbbbb');
    const next = switchedState(plan as Extract<typeof plan, { kind: 'deploy' }>, D2, 'bbbbbbbbbb');
    expect(next).toEqual({
      liveColour: 'green',
      liveDigest: D2,
      revision: 4,
      liveConfig: 'bbbbbbbbbb',
      previousColour: 'blue',
      previousDigest: D1,
      previousConfig: 'aaaaaaaaaa',
    });
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', annotations: stateAnnotations(next) } };
    expect(readLiveState(service)).toEqual(next);
  });
});

describe('renderColourObjects', () => {
  it('copies the HPA and PDBs per colour, pointed at that colour', () => {
    const [h, p] = renderColourObjects(specOf(), 'green');
    expect(h).toMatchObject({
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'shop-green', namespace: 'prod', labels: { 'deploy-suite.dev/colour': 'green' } },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'shop-green' }, minReplicas: 2, maxReplicas: 9 },
    });
    expect(p).toMatchObject({
      kind: 'PodDisruptionBudget',
      metadata: { name: 'shop-green' },
      spec: {
        minAvailable: 1,
        selector: { matchLabels: { 'app.kubernetes.io/name': 'shop', 'deploy-suite.dev/colour': 'green' } },
      },
    });
    expect(renderColourObjects({ ...specOf(), pdbs: [], hpa: undefined } as AppSpec, 'blue')).toEqual([]);
  });
});

describe('renderSnapshot', () => {
  it('keeps what a rollback needs to render the revision again, labelled with its configuration', () => {
    const snapshot = renderSnapshot(specOf(), 'abcdef0123') as KubeObject & { data: Record<string, string> };
    expect(snapshot.metadata.name).toBe('shop-config-abcdef0123');
    expect(snapshot.metadata.labels?.['deploy-suite.dev/config-snapshot']).toBe('abcdef0123');
    const spec = JSON.parse(snapshot.data['spec.json']!) as AppSpec;
    expect(spec.deploymentTemplate).toEqual(specOf().deploymentTemplate);
    expect(spec.hpa).toEqual(specOf().hpa);
    expect(JSON.stringify(spec)).not.toContain('hunter2');
  });
});

describe('rendering and masking helpers', () => {
  it('parses several documents, skips empty ones and unpacks lists', () => {
    const text = [
      '---',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}',
      '---',
      '# only a comment',
      '---',
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}',
    ].join('\n');
    expect(parseManifests(text, 'x.yaml').map((o) => o.metadata.name)).toEqual(['a', 'b']);
    expect(() => parseManifests('a: [1', 'bad.yaml')).toThrow(/bad.yaml is not valid YAML/);
    expect(() => parseManifests('- 1\n- 2', 'list.yaml')).toThrow(/not an object/);
  });

  it('tells a chart, an overlay, a folder and a file apart', () => {
    const root = mkdtempSync(join(tmpdir(), 'sources-'));
    for (const [dir, file] of [
      ['chart', 'Chart.yaml'],
      ['overlay', 'kustomization.yaml'],
      ['plain', 'a.yaml'],
    ] as const) {
      mkdirSync(join(root, dir));
      writeFileSync(join(root, dir, file), '');
    }
    writeFileSync(join(root, 'app.tgz'), '');
    expect(sourceKind(join(root, 'chart'))).toBe('helm');
    expect(sourceKind(join(root, 'overlay'))).toBe('kustomize');
    expect(sourceKind(join(root, 'plain'))).toBe('folder');
    expect(sourceKind(join(root, 'plain', 'a.yaml'))).toBe('file');
    expect(sourceKind(join(root, 'app.tgz'))).toBe('helm');
  });

  it('finds every Secret value to mask, from data and stringData', () => {
    const objects = [
      secret('a', { url: 'postgres://u:hunter2@db' }),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b' }, stringData: { token: 's3cret' } },
      configMap('c', { not: 'secret' }),
    ];
    expect(secretValues(objects).sort()).toEqual(['postgres://u:hunter2@db', 's3cret']);
  });

  it("a Secret's diff says which key changed, never its value", () => {
    const before = secret('a', { url: 'old-value' });
    const after = secret('a', { url: 'new-value', extra: 'x' });
    const lines = diffObjects(before, after, '', true);
    expect(lines).toEqual(['data.extra: added (value hidden)', 'data.url: changed (value hidden)']);
    expect(lines.join('\n')).not.toContain(Buffer.from('new-value').toString('base64'));
    expect(diffObjects(before, after).join('\n')).toContain(Buffer.from('new-value').toString('base64'));
  });

  it('the rights of the manifests are get, create and patch of each kind they carry', () => {
    recordDiscovery('networking.k8s.io/v1', [
      { name: 'ingresses', kind: 'Ingress', namespaced: true },
      { name: 'ingresses/status', kind: 'Ingress', namespaced: true },
    ]);
    const app = split(appObjects());
    expect(manifestAccess(app).map((n) => `${n.group}/${n.resource}`)).toEqual([
      '/secrets',
      '/configmaps',
      'autoscaling/horizontalpodautoscalers',
      'policy/poddisruptionbudgets',
      'networking.k8s.io/ingresses',
      '/serviceaccounts',
    ]);
  });
});

describe('addAppSecret', () => {
  const secret = appSecretObject('shop-secrets', new Map([['API_KEY', 'k-123']]));

  it('versions the Secret and rewrites the references the pod template makes to it', () => {
    const d = deployment({
      volumes: [{ name: 's', secret: { secretName: 'shop-secrets' } }],
    });
    const added = addAppSecret(
      { deployment: d, config: [], external: [{ kind: 'Secret', name: 'shop-secrets', optional: false }] },
      secret,
      {
        app: 'shop',
        namespace: 'prod',
      },
    );
    const name = added.config[0]!.metadata.name;
    expect(name).toMatch(/^shop-secrets-[a-f0-9]{10}$/);
    expect((podOf(added.deployment).volumes as { secret: { secretName: string } }[])[0]!.secret.secretName).toBe(name);
    expect(added.external).toEqual([]);
    // Not named anywhere: the first container's environment, nothing else touched.
    expect(podOf(added.deployment).containers[0]!.envFrom).toEqual([{ configMapRef: { name: 'shop-env' } }]);
  });

  it('a pod template that names it nowhere gets it as the first container’s environment', () => {
    const added = addAppSecret(
      { deployment: defaultDeploymentTemplate('shop', 8080), config: [], external: [] },
      secret,
      { app: 'shop', namespace: 'prod' },
    );
    expect(podOf(added.deployment).containers[0]!.envFrom).toEqual([
      { secretRef: { name: added.config[0]!.metadata.name } },
    ]);
    // New values, a new name: a revision of their own.
    const other = addAppSecret(
      { deployment: defaultDeploymentTemplate('shop', 8080), config: [], external: [] },
      appSecretObject('shop-secrets', new Map([['API_KEY', 'k-456']])),
      { app: 'shop', namespace: 'prod' },
    );
    expect(other.config[0]!.metadata.name).not.toBe(added.config[0]!.metadata.name);
  });

  it('refuses a name the manifests already hold', () => {
    expect(() =>
      addAppSecret({ deployment: deployment(), config: [], external: [] }, secret, {
        app: 'shop',
        namespace: 'prod',
        manifestObjects: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'shop-secrets' } }],
      }),
    ).toThrow(/the manifests hold a Secret shop-secrets and app-secrets makes one of that name/);
  });
});

describe('hooks in the manifests', () => {
  const job = (name: string, annotations: Record<string, string>, image = 'shop:dev'): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, annotations },
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'm', image, envFrom: [{ configMapRef: { name: 'shop-env' } }] }],
        },
      },
    },
  });

  it('takes annotated Jobs out of the shared objects: the suite’s annotation and Helm’s', () => {
    const app = split([
      ...appObjects(),
      job('migrate', { 'deploy-suite.dev/hook': 'pre-switch' }),
      job('helm-migrate', { 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-weight': '-5' }),
      job('restore-cache', { 'helm.sh/hook': 'post-rollback' }),
      job('helm-test', { 'helm.sh/hook': 'test' }),
      job('cleanup', { 'deploy-suite.dev/hook': 'post-rollback' }, 'busybox'),
    ]);
    expect(app.hooks.map((h) => `${h.event}:${h.job.metadata.name}`)).toEqual([
      'pre-switch:migrate',
      'pre-switch:helm-migrate',
      'post-rollback:restore-cache',
      'post-rollback:cleanup',
    ]);
    expect(app.skippedHooks).toEqual(['Job helm-test (test)']);
    expect(app.shared.map((o) => o.kind)).not.toContain('Job');
    const [migrate] = app.hooks;
    const container = podOf(migrate!.job).containers[0] as {
      image: string;
      envFrom: { configMapRef: { name: string } }[];
    };
    // The Deployment's image stands for the release's; its ConfigMap is the revision's copy.
    expect(container.image).toBe('');
    expect(container.envFrom[0]!.configMapRef.name).toBe(
      app.config.find((c) => c.metadata.name.startsWith('shop-env-'))!.metadata.name,
    );
    expect((podOf(app.hooks[3]!.job).containers[0] as { image: string }).image).toBe('busybox');
  });

  it('refuses an unknown hook event and a hook without containers', () => {
    expect(() => split([...appObjects(), job('x', { 'deploy-suite.dev/hook': 'before' })])).toThrow(
      /Job x has deploy-suite.dev\/hook: 'before'.*use pre-switch or post-rollback/,
    );
    const empty = job('y', { 'deploy-suite.dev/hook': 'pre-switch' });
    podOf(empty).containers = [];
    expect(() => split([...appObjects(), empty])).toThrow(/hook Job y has no containers/);
  });

  it('a changed hook is a new configuration', () => {
    const spec = specOf();
    const withHook = { ...spec, hooks: [{ event: 'pre-switch' as const, job: job('m', {}) }] };
    expect(configHash(withHook)).not.toBe(configHash(spec));
    expect(configHash({ ...spec, hooks: [{ event: 'pre-switch' as const, job: job('m', {}, 'other') }] })).not.toBe(
      configHash(withHook),
    );
  });
});
