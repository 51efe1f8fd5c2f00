/**
 * An app as users ship it (a folder of manifests, a Kustomize overlay, a Helm chart), split into what the
 * blue-green model does with each object. Pure: the rendered objects in, the parts out.
 *
 * - The app's Deployment is the template of both colours.
 * - The Service that selects its pods is the template of the live and preview Services.
 * - The ConfigMaps and Secrets its pod template references are versioned: copied under a name with a hash
 *   of their content (as Kustomize's generators name them), immutable, and the references rewritten. A
 *   colour keeps the configuration it was deployed with, and a rollback brings it back with the image.
 * - An HPA that scales the Deployment and a PodDisruptionBudget that selects its pods belong to a colour:
 *   copied per colour with colour-suffixed names.
 * - Everything else (ServiceAccount, Ingress, RBAC, other kinds, CRDs) is shared: applied once, as it is.
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from './client.js';

export class ManifestError extends Error {
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${problem}. Fix: ${fix}`);
    this.name = 'ManifestError';
  }
}

export type ConfigKind = 'ConfigMap' | 'Secret';

/** A ConfigMap or Secret the pod template names, as `kind/name`. */
export interface ConfigReference {
  kind: ConfigKind;
  name: string;
  /** Every reference to it is optional: the pod starts without it. */
  optional: boolean;
}

export interface AppManifests {
  /** The app's Deployment, its ConfigMap and Secret references rewritten to the versioned names. */
  deployment: KubeObject;
  /** The Service that selects the Deployment's pods (a template of the live and preview Services). */
  service?: KubeObject;
  /** The referenced ConfigMaps and Secrets of the manifests, under their versioned names. */
  config: KubeObject[];
  /** HorizontalPodAutoscalers of the Deployment and PodDisruptionBudgets of its pods, as templates. */
  hpa?: KubeObject;
  pdbs: KubeObject[];
  /** Objects applied once, as they are (the namespace set where a namespaced kind has none). */
  shared: KubeObject[];
  /**
   * Jobs run around a release: `pre-switch` ones against the new colour before the switch (migrations,
   * smoke tests), `post-rollback` ones after a rollback. Their references rewritten as the Deployment's;
   * a container without an image (or with the Deployment's) runs the release's image.
   */
  hooks: Hook[];
  /** Helm hooks the suite does not run (test, post-install, …), named for the log. */
  skippedHooks: string[];
  /** ConfigMaps and Secrets the pod template names that the manifests do not hold: they must exist. */
  external: ConfigReference[];
}

export interface SplitOptions {
  app: string;
  namespace: string;
  /** The Deployment that is the app, when the manifests hold more than one. */
  deployment?: string;
  /** Kinds known to be cluster-scoped (no namespace is set on them). */
  clusterScoped?: (object: KubeObject) => boolean;
}

type PodSpec = Record<string, unknown> & {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
};
interface Container {
  env?: { valueFrom?: { configMapKeyRef?: Ref; secretKeyRef?: Ref } }[];
  envFrom?: { configMapRef?: Ref; secretRef?: Ref }[];
}
interface Ref {
  name?: string;
  optional?: boolean;
}
interface Volume {
  configMap?: Ref;
  secret?: { secretName?: string; optional?: boolean };
  projected?: { sources?: { configMap?: Ref; secret?: Ref }[] };
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'PriorityClass',
  'StorageClass',
  'IngressClass',
  'PersistentVolume',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
  'RuntimeClass',
]);

export const VERSIONED_LABEL = 'deploy-suite.dev/versioned-config';
export const HOOK_ANNOTATION = 'deploy-suite.dev/hook';

export type HookEvent = 'pre-switch' | 'post-rollback';

export interface Hook {
  event: HookEvent;
  job: KubeObject;
}

/**
 * When a Job of the manifests runs: the suite's annotation, or Helm's (pre-install and pre-upgrade are
 * before the switch; post-rollback after a rollback). Other Helm hooks are not run; undefined: no hook.
 */
export function hookEvent(object: KubeObject): HookEvent | 'skipped' | undefined {
  const ours = object.metadata.annotations?.[HOOK_ANNOTATION];
  if (ours === 'pre-switch' || ours === 'post-rollback') return ours;
  if (ours !== undefined)
    throw new ManifestError(
      `${object.kind} ${object.metadata.name} has ${HOOK_ANNOTATION}: '${ours}'`,
      'use pre-switch or post-rollback',
    );
  const helm = object.metadata.annotations?.['helm.sh/hook'];
  if (helm === undefined) return undefined;
  const events = helm.split(',').map((e) => e.trim());
  if (events.includes('pre-install') || events.includes('pre-upgrade')) return 'pre-switch';
  if (events.includes('post-rollback')) return 'post-rollback';
  return 'skipped';
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet', 'CronJob']);

/** The pod spec of a workload (a CronJob's through its job template). */
function podSpecOf(workload: KubeObject): PodSpec | undefined {
  type Template = { template?: { spec?: PodSpec } };
  const spec = workload.spec as (Template & { jobTemplate?: { spec?: Template } }) | undefined;
  return spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec;
}

function podLabelsOf(deployment: KubeObject): Record<string, string> {
  return (
    (deployment.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template
      ?.metadata?.labels ?? {}
  );
}

/** Every ConfigMap and Secret reference of a pod spec, visited with a setter that renames it. */
function visitReferences(pod: PodSpec, visit: (kind: ConfigKind, ref: Ref, rename: (name: string) => void) => void) {
  for (const container of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
    for (const env of container.env ?? []) {
      const cm = env.valueFrom?.configMapKeyRef;
      if (cm?.name) visit('ConfigMap', cm, (n) => (cm.name = n));
      const secret = env.valueFrom?.secretKeyRef;
      if (secret?.name) visit('Secret', secret, (n) => (secret.name = n));
    }
    for (const from of container.envFrom ?? []) {
      const cm = from.configMapRef;
      if (cm?.name) visit('ConfigMap', cm, (n) => (cm.name = n));
      const secret = from.secretRef;
      if (secret?.name) visit('Secret', secret, (n) => (secret.name = n));
    }
  }
  for (const volume of pod.volumes ?? []) {
    const cm = volume.configMap;
    if (cm?.name) visit('ConfigMap', cm, (n) => (cm.name = n));
    const secret = volume.secret;
    if (secret?.secretName)
      visit('Secret', { name: secret.secretName, optional: secret.optional ?? false }, (n) => (secret.secretName = n));
    for (const source of volume.projected?.sources ?? []) {
      const pcm = source.configMap;
      if (pcm?.name) visit('ConfigMap', pcm, (n) => (pcm.name = n));
      const ps = source.secret;
      if (ps?.name) visit('Secret', ps, (n) => (ps.name = n));
    }
  }
}

/** The ConfigMaps and Secrets a pod spec references, each once. Pure. */
export function configReferences(deployment: KubeObject): ConfigReference[] {
  const pod = podSpecOf(deployment);
  const found = new Map<string, ConfigReference>();
  if (pod)
    visitReferences(pod, (kind, ref) => {
      const key = `${kind}/${ref.name!}`;
      const optional = ref.optional === true;
      const seen = found.get(key);
      found.set(key, { kind, name: ref.name!, optional: seen ? seen.optional && optional : optional });
    });
  return [...found.values()];
}

/** Canonical JSON: keys sorted at every level, so equal content hashes equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export function contentHash(value: unknown, length = 10): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, length);
}

/** What a ConfigMap or Secret holds: what its versioned name hashes. */
function configContent(object: KubeObject): unknown {
  const { data, binaryData, stringData, type } = object as Record<string, unknown>;
  return { kind: object.kind, data, binaryData, stringData, type };
}

/** The versioned copy of a ConfigMap or Secret: `<name>-<hash of its content>`, immutable, labelled. */
function versionedConfig(object: KubeObject, app: string, namespace: string): KubeObject {
  const name = `${object.metadata.name}-${contentHash(configContent(object))}`;
  const copy = structuredClone(object) as KubeObject & { immutable?: boolean };
  copy.metadata = {
    name,
    namespace,
    labels: {
      ...(object.metadata.labels ?? {}),
      'app.kubernetes.io/name': app,
      'app.kubernetes.io/managed-by': 'deploy-suite',
      [VERSIONED_LABEL]: object.metadata.name,
    },
    ...(object.metadata.annotations ? { annotations: object.metadata.annotations } : {}),
  };
  copy.immutable = true;
  return copy;
}

const describe = (o: KubeObject) => `${o.kind} ${o.metadata.name}`;

function selects(selector: unknown, labels: Record<string, string>): boolean {
  const matchLabels =
    (selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ??
    (selector as Record<string, string> | undefined);
  if (!matchLabels || typeof matchLabels !== 'object' || Object.keys(matchLabels).length === 0) return false;
  return Object.entries(matchLabels).every(([k, v]) => typeof v === 'string' && labels[k] === v);
}

/** Splits rendered manifests into the parts of a blue-green app; a ManifestError says what is wrong. Pure. */
export function splitManifests(objects: KubeObject[], options: SplitOptions): AppManifests {
  const problems: string[] = [];
  for (const object of objects) {
    if (!object || typeof object !== 'object' || typeof object.kind !== 'string' || !object.apiVersion)
      throw new ManifestError(
        `a document of the manifests is not a Kubernetes object (no apiVersion or kind): ${JSON.stringify(object).slice(0, 80)}`,
        'give every document an apiVersion and a kind',
      );
    if (typeof object.metadata?.name !== 'string' || !object.metadata.name)
      throw new ManifestError(`a ${object.kind} of the manifests has no metadata.name`, 'name every object');
  }
  const clusterScoped = options.clusterScoped ?? ((o: KubeObject) => CLUSTER_SCOPED.has(o.kind));
  for (const object of objects) {
    const ns = object.metadata.namespace;
    if (ns && ns !== options.namespace && !clusterScoped(object))
      problems.push(`${describe(object)} is in namespace ${ns}, not ${options.namespace}`);
  }
  if (problems.length)
    throw new ManifestError(
      `the manifests name another namespace: ${problems.join('; ')}`,
      `deploy each namespace's objects in their own run, or drop metadata.namespace (the suite sets ${options.namespace})`,
    );

  const deployments = objects.filter((o) => o.kind === 'Deployment');
  let deployment: KubeObject | undefined;
  if (options.deployment) {
    deployment = deployments.find((d) => d.metadata.name === options.deployment);
    if (!deployment)
      throw new ManifestError(
        `the manifests hold no Deployment named ${options.deployment} (they hold ${deployments.map((d) => d.metadata.name).join(', ') || 'none'})`,
        'name one of the manifests’ Deployments in manifests-deployment',
      );
  } else if (deployments.length === 1) {
    deployment = deployments[0]!;
  } else if (deployments.length === 0) {
    throw new ManifestError(
      'the manifests hold no Deployment',
      'add the Deployment of the app (its pod template is what both colours run)',
    );
  } else {
    throw new ManifestError(
      `the manifests hold ${deployments.length} Deployments (${deployments.map((d) => d.metadata.name).join(', ')}) and none is named as the app's`,
      'set manifests-deployment to the one that is the app; the others are applied as they are',
    );
  }
  const pod = podSpecOf(deployment);
  if (!pod?.containers?.length)
    throw new ManifestError(
      `Deployment ${deployment.metadata.name} has no containers`,
      'add spec.template.spec.containers',
    );
  const podLabels = podLabelsOf(deployment);

  // The Service of the app: the one whose selector picks the Deployment's pods.
  const services = objects.filter(
    (o) => o.kind === 'Service' && selects((o.spec as { selector?: unknown } | undefined)?.selector, podLabels),
  );
  if (services.length > 1)
    throw new ManifestError(
      `${services.length} Services select the pods of Deployment ${deployment.metadata.name} (${services.map((s) => s.metadata.name).join(', ')})`,
      'keep one Service for the app (the suite makes the live and preview ones from it); give others a selector of their own',
    );
  const service = services[0];
  if (service && service.metadata.name !== options.app)
    throw new ManifestError(
      `the Service of the app is named ${service.metadata.name}, but the live Service is named after the app (${options.app})`,
      `set app to ${service.metadata.name}, or name the Service ${options.app} (Ingresses and routes then point at the live one)`,
    );

  // HPAs and PDBs of the app's pods belong to a colour.
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  const deploymentNames = new Set(deployments.map((d) => d.metadata.name));
  const appHpas: KubeObject[] = [];
  for (const hpa of hpas) {
    const target = (hpa.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)?.scaleTargetRef;
    if (target?.kind === 'Deployment' && target.name === deployment.metadata.name) appHpas.push(hpa);
    else if (
      !(target?.kind === 'Deployment' && target.name && deploymentNames.has(target.name)) &&
      target?.kind === 'Deployment'
    )
      throw new ManifestError(
        `HorizontalPodAutoscaler ${hpa.metadata.name} scales Deployment ${target.name ?? '(none)'}, which the manifests do not hold`,
        `point its scaleTargetRef at Deployment ${deployment.metadata.name}, or drop it`,
      );
  }
  if (appHpas.length > 1)
    throw new ManifestError(
      `${appHpas.length} HorizontalPodAutoscalers scale Deployment ${deployment.metadata.name} (${appHpas.map((h) => h.metadata.name).join(', ')})`,
      'keep one: two autoscalers of one Deployment fight over its replicas',
    );
  const pdbs = objects.filter(
    (o) =>
      o.kind === 'PodDisruptionBudget' && selects((o.spec as { selector?: unknown } | undefined)?.selector, podLabels),
  );

  // The ConfigMaps and Secrets the pod template names: versioned when the manifests hold them.
  const byKey = new Map(
    objects
      .filter((o) => o.kind === 'ConfigMap' || o.kind === 'Secret')
      .map((o) => [`${o.kind}/${o.metadata.name}`, o]),
  );
  const rewritten = structuredClone(deployment);
  const versioned = new Map<string, KubeObject>();
  const external = new Map<string, ConfigReference>();
  // Versions a workload's references in place: the manifests' ConfigMaps and Secrets become their copies
  // (one copy per content, shared by the Deployment and the hooks); the others must exist.
  const versionReferences = (workload: KubeObject) => {
    for (const ref of configReferences(workload)) {
      const key = `${ref.kind}/${ref.name}`;
      const found = byKey.get(key);
      const seen = external.get(key);
      if (found && !versioned.has(key)) versioned.set(key, versionedConfig(found, options.app, options.namespace));
      else if (!found) external.set(key, seen ? { ...ref, optional: seen.optional && ref.optional } : ref);
    }
    visitReferences(podSpecOf(workload)!, (kind, ref, rename) => {
      const copy = versioned.get(`${kind}/${ref.name!}`);
      if (copy) rename(copy.metadata.name);
    });
  };
  versionReferences(rewritten);

  // Hooks: Jobs with a hook annotation. Their references are versioned like the Deployment's (the same
  // content, the same copy), and the Deployment's image stands for the release's.
  const appImage = (pod.containers[0] as { image?: string }).image;
  const hooks: Hook[] = [];
  const skippedHooks: string[] = [];
  const hookObjects = new Set<KubeObject>();
  for (const object of objects) {
    const event = hookEvent(object);
    if (event === undefined) continue;
    hookObjects.add(object);
    if (event === 'skipped' || object.kind !== 'Job') {
      skippedHooks.push(
        `${object.kind} ${object.metadata.name} (${object.metadata.annotations?.['helm.sh/hook'] ?? event})`,
      );
      continue;
    }
    const job = structuredClone(object);
    const jobPod = podSpecOf(job);
    if (!jobPod?.containers?.length)
      throw new ManifestError(
        `hook Job ${object.metadata.name} has no containers`,
        'add spec.template.spec.containers',
      );
    versionReferences(job);
    for (const container of jobPod.containers as { image?: string }[])
      if (!container.image || container.image === appImage) container.image = '';
    hooks.push({ event, job });
  }

  // A ConfigMap or Secret another workload of the manifests also uses stays as it is, beside its copy.
  const usedElsewhere = new Set(
    objects
      .filter((o) => o !== deployment && !hookObjects.has(o) && WORKLOADS.has(o.kind))
      .flatMap((o) => configReferences(o).map((r) => `${r.kind}/${r.name}`)),
  );
  const taken = new Set<KubeObject>([deployment, ...appHpas, ...pdbs, ...(service ? [service] : []), ...hookObjects]);
  for (const key of versioned.keys()) if (!usedElsewhere.has(key)) taken.add(byKey.get(key)!);
  const shared = objects
    .filter((o) => !taken.has(o))
    .map((o) =>
      clusterScoped(o) || o.metadata.namespace
        ? o
        : ({ ...o, metadata: { ...o.metadata, namespace: options.namespace } } as KubeObject),
    );
  return {
    deployment: rewritten,
    ...(service ? { service } : {}),
    config: [...versioned.values()],
    ...(appHpas[0] ? { hpa: appHpas[0] } : {}),
    pdbs,
    shared,
    hooks,
    skippedHooks,
    external: [...external.values()],
  };
}

/** The Secret the app-secrets input makes: KEY=value settings from repository secrets. Pure. */
export function appSecretObject(name: string, values: Map<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'Opaque',
    data: Object.fromEntries([...values].map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/**
 * Adds the app-secrets Secret to an app: versioned like the manifests' own (a copy per content), its
 * references in the pod template rewritten; a pod template that names it nowhere gets it as the first
 * container's environment (envFrom). The manifests may not hold a Secret of that name themselves. Pure.
 */
export function addAppSecret(
  parts: Pick<AppManifests, 'deployment' | 'config' | 'external'>,
  secret: KubeObject,
  options: { app: string; namespace: string; manifestObjects?: KubeObject[] },
): Pick<AppManifests, 'deployment' | 'config' | 'external'> {
  const name = secret.metadata.name;
  if (options.manifestObjects?.some((o) => o.kind === 'Secret' && o.metadata.name === name))
    throw new ManifestError(
      `the manifests hold a Secret ${name} and app-secrets makes one of that name`,
      'name the app-secrets Secret otherwise (app-secrets-name), or drop one of them',
    );
  const deployment = structuredClone(parts.deployment);
  const pod = podSpecOf(deployment);
  if (!pod?.containers?.length)
    throw new ManifestError(
      `Deployment ${deployment.metadata.name} has no containers`,
      'add spec.template.spec.containers',
    );
  const copy = versionedConfig(secret, options.app, options.namespace);
  let referenced = false;
  visitReferences(pod, (kind, ref, rename) => {
    if (kind === 'Secret' && ref.name === name) {
      referenced = true;
      rename(copy.metadata.name);
    }
  });
  if (!referenced) {
    const first = pod.containers[0]!;
    first.envFrom = [...(first.envFrom ?? []), { secretRef: { name: copy.metadata.name } }];
  }
  return {
    deployment,
    config: [...parts.config, copy],
    external: parts.external.filter((r) => !(r.kind === 'Secret' && r.name === name)),
  };
}

/** The pod template the suite renders when none is given, as a template app-secrets can be added to. Pure. */
export function defaultDeploymentTemplate(app: string, containerPort: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: app },
    spec: {
      template: {
        spec: {
          // The restricted Pod Security Standard: what a namespace enforcing it admits.
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: app,
              ports: [{ name: 'http', containerPort }],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}
