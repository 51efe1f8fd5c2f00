/**
 * The blue-green model, pure: which colour a deploy goes to, what the cluster state says, and the
 * objects to apply. State lives in annotations on the live Service, so a re-run reads it and converges.
 */
import type { KubeObject } from './client.js';
import { contentHash, defaultDeploymentTemplate, type Hook } from './app-manifests.js';

export type Colour = 'blue' | 'green';
export const COLOUR_LABEL = 'deploy-suite.dev/colour';
export const NAME_LABEL = 'app.kubernetes.io/name';
export const MANAGED_BY = 'deploy-suite';
const A = 'deploy-suite.dev/';

export function otherColour(colour: Colour): Colour {
  return colour === 'blue' ? 'green' : 'blue';
}

/** What the live Service's annotations record. */
export interface LiveState {
  liveColour: Colour;
  liveDigest: string;
  revision: number;
  /** The configuration hash of the live colour (configHash); absent on state written before it was recorded. */
  liveConfig?: string;
  previousColour?: Colour;
  previousDigest?: string;
  previousConfig?: string;
}

export function readLiveState(service: KubeObject | undefined): LiveState | undefined {
  const annotations = service?.metadata.annotations ?? {};
  const colour = annotations[`${A}live-colour`];
  if (colour !== 'blue' && colour !== 'green') return undefined;
  const previous = annotations[`${A}previous-colour`];
  return {
    liveColour: colour,
    liveDigest: annotations[`${A}live-digest`] ?? '',
    revision: Number(annotations[`${A}revision`] ?? '0') || 0,
    ...(previous === 'blue' || previous === 'green' ? { previousColour: previous } : {}),
    ...(annotations[`${A}previous-digest`] ? { previousDigest: annotations[`${A}previous-digest`] } : {}),
    ...(annotations[`${A}live-config`] ? { liveConfig: annotations[`${A}live-config`] } : {}),
    ...(annotations[`${A}previous-config`] ? { previousConfig: annotations[`${A}previous-config`] } : {}),
  };
}

export function stateAnnotations(state: LiveState, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [`${A}live-colour`]: state.liveColour,
    [`${A}live-digest`]: state.liveDigest,
    [`${A}revision`]: String(state.revision),
    ...(state.previousColour ? { [`${A}previous-colour`]: state.previousColour } : {}),
    ...(state.previousDigest ? { [`${A}previous-digest`]: state.previousDigest } : {}),
    ...(state.liveConfig ? { [`${A}live-config`]: state.liveConfig } : {}),
    ...(state.previousConfig ? { [`${A}previous-config`]: state.previousConfig } : {}),
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`${A}${k}`, v])),
  };
}

export type DeployPlan =
  | { kind: 'noop'; colour: Colour; revision: number; reason: string }
  | {
      kind: 'deploy';
      target: Colour;
      revision: number;
      previous?: { colour: Colour; digest: string; config?: string };
      /** Why this is a new revision: a new image, a new configuration, or both. */
      change?: 'image' | 'config' | 'image and config';
    };

/**
 * A revision is the digest and the configuration the colour runs (configHash). First deploy goes blue; a
 * new digest or a new configuration goes to the idle colour; both as they are live change nothing. A live
 * state without a recorded configuration (written before the suite recorded it) counts as a change.
 */
export function planDeploy(
  state: LiveState | undefined,
  digest: string,
  config?: string,
  /** The highest revision the history holds: after a rollback the live one is lower, and numbers are never reused. */
  highestRevision = 0,
): DeployPlan {
  const next = Math.max(state?.revision ?? 0, highestRevision) + 1;
  if (!state) return { kind: 'deploy', target: 'blue', revision: next };
  const imageChanged = state.liveDigest !== digest;
  const configChanged = config !== undefined && state.liveConfig !== config;
  if (!imageChanged && !configChanged)
    return {
      kind: 'noop',
      colour: state.liveColour,
      revision: state.revision,
      reason: `${digest}${config ? ` with configuration ${config}` : ''} is already live on ${state.liveColour} (revision ${state.revision})`,
    };
  return {
    kind: 'deploy',
    target: otherColour(state.liveColour),
    revision: next,
    previous: {
      colour: state.liveColour,
      digest: state.liveDigest,
      ...(state.liveConfig ? { config: state.liveConfig } : {}),
    },
    change: imageChanged && configChanged ? 'image and config' : imageChanged ? 'image' : 'config',
  };
}

/** What goes live in a switch, and what was live before it (kept as the previous colour). */
export interface Switch {
  colour: Colour;
  digest: string;
  revision: number;
  config?: string;
}

/** The live state once `to` is switched live from `from` (a deploy, a promote, a rollback). Pure. */
export function switchedTo(to: Switch, from?: { colour: Colour; digest: string; config?: string }): LiveState {
  return {
    liveColour: to.colour,
    liveDigest: to.digest,
    revision: to.revision,
    ...(to.config ? { liveConfig: to.config } : {}),
    ...(from ? { previousColour: from.colour, previousDigest: from.digest } : {}),
    ...(from?.config ? { previousConfig: from.config } : {}),
  };
}

/** The live state as the previous side of a switch. */
export const liveSide = (state: LiveState) => ({
  colour: state.liveColour,
  digest: state.liveDigest,
  ...(state.liveConfig ? { config: state.liveConfig } : {}),
});

/** The state after the switch to `target`. */
export function switchedState(
  plan: Extract<DeployPlan, { kind: 'deploy' }>,
  digest: string,
  config?: string,
): LiveState {
  return switchedTo(
    { colour: plan.target, digest, revision: plan.revision, ...(config ? { config } : {}) },
    plan.previous,
  );
}

export interface AppSpec {
  app: string;
  namespace: string;
  replicas: number;
  /** name@sha256:… */
  image: string;
  containerPort: number;
  /** The user's Deployment, as a template: its pod spec is kept, names, labels and the image are ours. */
  deploymentTemplate?: KubeObject;
  /**
   * The user's Service, as a template for both Services: its ports, type and annotations are kept; names,
   * labels and the selector are ours (the selector is what the switch changes).
   */
  serviceTemplate?: KubeObject;
  /** Extra pod labels (tests use deploy-suite.test/hold-not-ready). */
  podLabels?: Record<string, string>;
  progressDeadlineSeconds: number;
  /** Versioned ConfigMaps and Secrets the pod template names (app-manifests.ts), applied before the colour. */
  config?: KubeObject[];
  /** The app's HorizontalPodAutoscaler and PodDisruptionBudgets, as templates: one of each per colour. */
  hpa?: KubeObject;
  pdbs?: KubeObject[];
  /** Objects of the manifests applied once, as they are (ServiceAccount, Ingress, RBAC, …). */
  shared?: KubeObject[];
  /** Jobs run before the switch (pre-switch) and after a rollback (post-rollback). */
  hooks?: Hook[];
}

/**
 * The hash of what a colour runs besides its image: the pod template (env, resources, probes, the
 * versioned names of its ConfigMaps and Secrets, which carry their content), replicas unless an HPA owns
 * them, the HPA and PDBs. A change of any of these is a new revision, as a new image is. Pure.
 */
export function configHash(spec: AppSpec): string {
  // The image is the revision's other half; the progress deadline is how the deploy waits, not what runs.
  const deployment = renderDeployment({ ...spec, image: '', progressDeadlineSeconds: 0 }, 'blue', 0) as KubeObject & {
    spec: Record<string, unknown>;
  };
  // Its annotations are the revision's bookkeeping (revision, digest), not what runs.
  const metadata = { ...deployment.metadata, annotations: undefined };
  const deploymentSpec = spec.hpa ? { ...deployment.spec, replicas: undefined } : deployment.spec;
  return contentHash({
    deployment: { metadata, spec: deploymentSpec },
    colourObjects: renderColourObjects(spec, 'blue'),
    // A changed migration is a new revision: its Job runs again.
    ...(spec.hooks?.length ? { hooks: spec.hooks } : {}),
  });
}

/**
 * The HPA and PDBs of one colour: named `<name>-<colour>`, the HPA scaling that colour's Deployment, each
 * PDB selecting that colour's pods. Pure.
 */
export function renderColourObjects(spec: AppSpec, colour: Colour): KubeObject[] {
  const labels = { [NAME_LABEL]: spec.app, [COLOUR_LABEL]: colour, 'app.kubernetes.io/managed-by': MANAGED_BY };
  const metadataOf = (template: KubeObject) => ({
    name: `${template.metadata.name}-${colour}`,
    namespace: spec.namespace,
    labels: { ...(template.metadata.labels ?? {}), ...labels },
    ...(template.metadata.annotations ? { annotations: template.metadata.annotations } : {}),
  });
  const objects: KubeObject[] = [];
  if (spec.hpa) {
    const hpaSpec = spec.hpa.spec as { scaleTargetRef?: Record<string, unknown> } & Record<string, unknown>;
    objects.push({
      apiVersion: spec.hpa.apiVersion,
      kind: spec.hpa.kind,
      metadata: metadataOf(spec.hpa),
      spec: {
        ...hpaSpec,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deploymentName(spec.app, colour) },
      },
    });
  }
  for (const pdb of spec.pdbs ?? []) {
    objects.push({
      apiVersion: pdb.apiVersion,
      kind: pdb.kind,
      metadata: metadataOf(pdb),
      spec: { ...(pdb.spec as Record<string, unknown>), selector: { matchLabels: colourSelector(spec.app, colour) } },
    });
  }
  return objects;
}

export function deploymentName(app: string, colour: Colour): string {
  return `${app}-${colour}`;
}

/** The Deployment of one colour, running `image`; `config` is the configHash it records. */
export function renderDeployment(spec: AppSpec, colour: Colour, revision: number, config?: string): KubeObject {
  const labels = { [NAME_LABEL]: spec.app, [COLOUR_LABEL]: colour, 'app.kubernetes.io/managed-by': MANAGED_BY };
  // Without a template, the suite's default: the restricted Pod Security Standard met.
  const template = (
    (spec.deploymentTemplate ?? defaultDeploymentTemplate(spec.app, spec.containerPort)).spec as
      | {
          template?: {
            metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
            spec?: { containers?: { name: string; image?: string }[] };
          };
        }
      | undefined
  )?.template;
  // A container that fails to start leaves its last log lines in its status (FallbackToLogsOnError), where
  // a failed rollout's report reads them without the rights (or the kubelet route) that logs need.
  const withLogs = <C extends object>(c: C): C & { terminationMessagePolicy: string } => ({
    terminationMessagePolicy: 'FallbackToLogsOnError',
    ...c,
  });
  const containers = template?.spec?.containers?.length
    ? template.spec.containers.map((c, i) => withLogs(i === 0 ? { ...c, image: spec.image } : c))
    : [withLogs({ name: spec.app, image: spec.image, ports: [{ name: 'http', containerPort: spec.containerPort }] })];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deploymentName(spec.app, colour),
      namespace: spec.namespace,
      labels,
      annotations: {
        [`${A}revision`]: String(revision),
        [`${A}digest`]: digestOf(spec.image),
        ...(config ? { [`${A}config`]: config } : {}),
      },
    },
    spec: {
      replicas: spec.replicas,
      progressDeadlineSeconds: spec.progressDeadlineSeconds,
      selector: { matchLabels: { [NAME_LABEL]: spec.app, [COLOUR_LABEL]: colour } },
      template: {
        metadata: {
          labels: { ...(template?.metadata?.labels ?? {}), ...labels, ...(spec.podLabels ?? {}) },
          annotations: template?.metadata?.annotations ?? {},
        },
        spec: { ...(template?.spec ?? {}), containers },
      },
    },
  };
}

/** Every image a pod template runs: containers, init containers and ephemeral containers, in that order. Pure. */
export function podImages(deployment: KubeObject | undefined): string[] {
  type Container = { image?: unknown };
  const pod = (deployment?.spec as { template?: { spec?: Record<string, Container[] | undefined> } } | undefined)
    ?.template?.spec;
  return ['containers', 'initContainers', 'ephemeralContainers'].flatMap((field) =>
    (Array.isArray(pod?.[field]) ? pod[field] : []).map((c) => (typeof c?.image === 'string' ? c.image : '')),
  );
}

/** A digest as the suite writes it: sha256 and 64 lower-case hex digits. */
export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** The digest a colour's Deployment runs, as the deploy annotated it. */
export function deploymentDigest(deployment: KubeObject | undefined): string | undefined {
  return deployment?.metadata.annotations?.[`${A}digest`];
}

/** The revision a colour's Deployment was deployed as, as the deploy annotated it. */
export function deploymentRevision(deployment: KubeObject | undefined): number | undefined {
  const revision = Number(deployment?.metadata.annotations?.[`${A}revision`]);
  return Number.isInteger(revision) && revision > 0 ? revision : undefined;
}

/** The configuration a colour's Deployment runs, as the deploy annotated it. */
export function deploymentConfig(deployment: KubeObject | undefined): string | undefined {
  return deployment?.metadata.annotations?.[`${A}config`];
}

/** The selector of the pods of one colour of an app: what the live Service's switch changes. */
export function colourSelector(app: string, colour: Colour): Record<string, string> {
  return { [NAME_LABEL]: app, [COLOUR_LABEL]: colour };
}

const SERVICE_FIELDS_NOT_SHARED = new Set(['selector', 'clusterIP', 'clusterIPs', 'externalIPs', 'loadBalancerIP']);

export function renderServices(
  spec: AppSpec,
  live: Colour,
  annotations: Record<string, string>,
): [KubeObject, KubeObject] {
  const template = spec.serviceTemplate as
    (KubeObject & { spec?: Record<string, unknown> & { ports?: unknown[] } }) | undefined;
  // Fields that bind one Service to an address cannot be shared by the live and preview ones; the
  // selector is ours.
  const templateSpec = Object.fromEntries(
    Object.entries(template?.spec ?? {}).filter(([key]) => !SERVICE_FIELDS_NOT_SHARED.has(key)),
  );
  const service = (name: string, colour: Colour, extra: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: spec.namespace,
      labels: {
        ...(template?.metadata.labels ?? {}),
        [NAME_LABEL]: spec.app,
        'app.kubernetes.io/managed-by': MANAGED_BY,
      },
      annotations: { ...(template?.metadata.annotations ?? {}), ...extra },
    },
    spec: {
      ...templateSpec,
      selector: colourSelector(spec.app, colour),
      ports: template?.spec?.ports?.length
        ? template.spec.ports
        : [{ name: 'http', port: 80, targetPort: spec.containerPort }],
    },
  });
  return [service(spec.app, live, annotations), service(`${spec.app}-preview`, otherColour(live), {})];
}

/**
 * The preview Service while a colour rolls out: it selects no pod. Selecting the rolling colour, the
 * endpoint controllers would track every pod the rollout starts and stops; on a two-core control plane
 * that work slowed a 1,000-replica rollout by a fifth. It shows the colour again once the rollout is done
 * (one sync of ready pods), and on failure. Shown for the rollout's last 5 % instead, its endpoints sync
 * took longer, not shorter (0.04–0.7 s against 0.05–0.07 s): the controllers were still busy with the pods.
 */
export function parkedPreview(spec: AppSpec): KubeObject {
  const [, preview] = renderServices(spec, 'blue', {});
  const service = preview as KubeObject & { spec: Record<string, unknown> };
  return {
    ...service,
    spec: { ...service.spec, selector: { [NAME_LABEL]: spec.app, [COLOUR_LABEL]: 'none' } },
  } as KubeObject;
}

export function digestOf(image: string): string {
  return image.slice(image.indexOf('@') + 1);
}
