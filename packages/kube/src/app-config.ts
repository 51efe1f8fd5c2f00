/**
 * The configuration of each revision, kept in the cluster: the versioned ConfigMaps and Secrets
 * (app-manifests.ts) and a snapshot of what a colour was rendered from, so a rollback to a revision no
 * colour runs any more brings back its configuration with its image. Pruned with the history bound, never
 * what a colour (warm or scaled down) still uses.
 */
import { deploymentConfig, deploymentName, type AppSpec } from './bluegreen.js';
import { KubeApiError, resourcePath, type KubeApi, type KubeObject } from './client.js';
import { ManifestError, configReferences, VERSIONED_LABEL, type ConfigReference } from './app-manifests.js';
import type { HistoryEntry } from './history.js';

export const SNAPSHOT_LABEL = 'deploy-suite.dev/config-snapshot';

export function snapshotName(app: string, config: string): string {
  return `${app}-config-${config}`;
}

/** What a colour is rendered from, besides its image: the parts of AppSpec that make its configuration. */
type Snapshot = Pick<
  AppSpec,
  'deploymentTemplate' | 'serviceTemplate' | 'hpa' | 'pdbs' | 'hooks' | 'replicas' | 'containerPort'
>;

/** The snapshot ConfigMap of a configuration. Pure. */
export function renderSnapshot(spec: AppSpec, config: string): KubeObject {
  const snapshot: Snapshot = {
    replicas: spec.replicas,
    containerPort: spec.containerPort,
    ...(spec.deploymentTemplate ? { deploymentTemplate: spec.deploymentTemplate } : {}),
    ...(spec.serviceTemplate ? { serviceTemplate: spec.serviceTemplate } : {}),
    ...(spec.hpa ? { hpa: spec.hpa } : {}),
    ...(spec.pdbs?.length ? { pdbs: spec.pdbs } : {}),
    ...(spec.hooks?.length ? { hooks: spec.hooks } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: snapshotName(spec.app, config),
      namespace: spec.namespace,
      labels: {
        'app.kubernetes.io/name': spec.app,
        'app.kubernetes.io/managed-by': 'deploy-suite',
        [SNAPSHOT_LABEL]: config,
      },
    },
    immutable: true,
    data: { 'spec.json': JSON.stringify(snapshot) },
  };
}

/**
 * Writes the snapshot of a configuration unless it exists. It is immutable and named by the hash of
 * what it records that makes the configuration; what else it holds (the replicas an HPA owns, the
 * port of a template that names its own) may differ between runs of one configuration, so the first
 * one written stays.
 */
export async function writeSnapshot(client: KubeApi, spec: AppSpec, config: string, fieldManager: string) {
  const snapshot = renderSnapshot(spec, config);
  if (await client.get('v1', 'ConfigMap', spec.namespace, snapshot.metadata.name)) return;
  await client.apply(snapshot, { fieldManager });
}

/** The AppSpec of a recorded configuration, given its image; undefined when its snapshot is gone. */
export async function specOfConfig(
  client: KubeApi,
  app: { namespace: string; app: string },
  config: string,
  image: string,
): Promise<AppSpec | undefined> {
  const map = await client.get<KubeObject & { data?: Record<string, string> }>(
    'v1',
    'ConfigMap',
    app.namespace,
    snapshotName(app.app, config),
  );
  if (!map?.data?.['spec.json'] || map.metadata.labels?.[SNAPSHOT_LABEL] !== config) return undefined;
  const snapshot = JSON.parse(map.data['spec.json']) as Snapshot;
  return { ...snapshot, app: app.app, namespace: app.namespace, image, progressDeadlineSeconds: 300 };
}

/**
 * ConfigMaps and Secrets the pod template names that the manifests do not hold must exist (made by hand,
 * by External Secrets, …) unless every reference is optional: otherwise the colour's pods would never
 * start, found only at the progress deadline.
 */
export async function checkExternalConfig(
  client: Pick<KubeApi, 'get'>,
  namespace: string,
  refs: ConfigReference[],
): Promise<void> {
  const needed = refs.filter((r) => !r.optional);
  const found = await Promise.all(needed.map((r) => client.get('v1', r.kind, namespace, r.name)));
  const missing = needed.filter((_, i) => !found[i]);
  if (missing.length)
    throw new ManifestError(
      `the pod template names ${missing.map((r) => `${r.kind} ${r.name}`).join(', ')}, which neither the manifests nor namespace ${namespace} hold`,
      'add them to the manifests, create them in the namespace, or mark the reference optional: true',
    );
}

interface ObjectList {
  items: KubeObject[];
}

async function listLabelled(
  client: KubeApi,
  kind: 'ConfigMap' | 'Secret',
  namespace: string,
  selector: string,
): Promise<KubeObject[]> {
  const list = await client.request<ObjectList>('GET', resourcePath('v1', kind, namespace), {
    query: { labelSelector: selector },
  });
  return list.items;
}

export interface PruneResult {
  deleted: string[];
  /** Why a kind was not pruned (a Role without list or delete on it). */
  skipped: string[];
}

/**
 * Deletes the versioned ConfigMaps and Secrets and the snapshots of configurations that neither colour
 * runs and no history entry records (the history keeps HISTORY_LIMIT entries). Best effort: a Role
 * without list or delete on a kind leaves it, said in the result; the release is never failed by it.
 */
export async function pruneConfig(
  client: KubeApi,
  app: { namespace: string; app: string },
  history: HistoryEntry[],
): Promise<PruneResult> {
  const result: PruneResult = { deleted: [], skipped: [] };
  const colours = await Promise.all(
    (['blue', 'green'] as const).map((c) =>
      client.get('apps/v1', 'Deployment', app.namespace, deploymentName(app.app, c)),
    ),
  );
  const keepConfigs = new Set([
    ...history.flatMap((h) => (h.config ? [h.config] : [])),
    ...colours.flatMap((d) => (deploymentConfig(d) ? [deploymentConfig(d)!] : [])),
  ]);
  const appSelector = `app.kubernetes.io/name=${app.app},app.kubernetes.io/managed-by=deploy-suite`;
  const remove = async (kind: 'ConfigMap' | 'Secret', object: KubeObject) => {
    await client.delete('v1', kind, app.namespace, object.metadata.name, object.metadata.resourceVersion);
    result.deleted.push(`${kind} ${object.metadata.name}`);
  };
  const tolerate = (kind: string) => (error: unknown) => {
    if (error instanceof KubeApiError && (error.status === 403 || error.status === 409)) {
      result.skipped.push(`${kind}: ${error.status === 403 ? 'not allowed to list or delete' : 'changed meanwhile'}`);
      return;
    }
    throw error;
  };

  // What the kept configurations reference: the colours' pod templates and the kept snapshots' ones.
  const referenced = new Set(colours.flatMap((d) => (d ? configReferences(d).map((r) => `${r.kind}/${r.name}`) : [])));
  try {
    const snapshots = await listLabelled(client, 'ConfigMap', app.namespace, `${appSelector},${SNAPSHOT_LABEL}`);
    for (const snapshot of snapshots) {
      const config = snapshot.metadata.labels?.[SNAPSHOT_LABEL] ?? '';
      if (!keepConfigs.has(config)) {
        await remove('ConfigMap', snapshot).catch(tolerate('ConfigMap'));
        continue;
      }
      const spec = JSON.parse((snapshot as { data?: Record<string, string> }).data?.['spec.json'] ?? '{}') as Snapshot;
      for (const workload of [
        ...(spec.deploymentTemplate ? [spec.deploymentTemplate] : []),
        ...(spec.hooks ?? []).map((h) => h.job),
      ])
        for (const r of configReferences(workload)) referenced.add(`${r.kind}/${r.name}`);
    }
  } catch (error) {
    tolerate('ConfigMap')(error);
    return result; // without the snapshots, what old revisions use is unknown: nothing else is pruned
  }
  for (const kind of ['ConfigMap', 'Secret'] as const) {
    try {
      const versioned = await listLabelled(client, kind, app.namespace, `${appSelector},${VERSIONED_LABEL}`);
      for (const object of versioned)
        if (!referenced.has(`${kind}/${object.metadata.name}`)) await remove(kind, object);
    } catch (error) {
      tolerate(kind)(error);
    }
  }
  return result;
}
