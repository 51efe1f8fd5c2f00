import { PhaseError } from '@deploy-suite/action-kit';
import { MANAGED_BY, deploymentName, type AppSpec } from './bluegreen.js';
import type { KubeApi, KubeObject } from './client.js';
import { historyName } from './history.js';

/**
 * The field managers the suite writes with: the deploy's applies; the rollback's selector switch (a merge
 * patch: ports and templates stay the deploy's); the scale-down of the previous colour.
 */
export const FIELD_MANAGER = 'deploy-suite';
export const ROLLBACK_MANAGER = 'deploy-suite-rollback';
export const SCALE_MANAGER = 'deploy-suite-scale-down';

interface ManagedFieldsEntry {
  manager?: string;
  subresource?: string;
}

/**
 * Whether an object exists and was not made by the suite (which labels all it writes), and if so who
 * wrote it: its field managers, leaving out status writers (controllers report status on everything). Pure.
 */
export function foreignOwners(object: KubeObject | undefined): string[] | undefined {
  if (!object || object.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY) return undefined;
  const entries = (object.metadata as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? [];
  const managers = entries.filter((e) => e.subresource !== 'status' && e.manager).map((e) => e.manager!);
  return [...new Set(managers.length ? managers : ['(unknown)'])];
}

/**
 * Before a first deploy applies anything: the objects it would write (the live and preview Services,
 * both colours' Deployments, the history) must not exist unless the suite made them. Server-side apply is
 * forced (the suite takes back its own fields from its rollbacks), so without this check a first deploy
 * would silently take over an existing Service named like the app. `force` takes them over on purpose.
 */
export async function checkFirstDeployOwnership(
  client: KubeApi,
  spec: AppSpec,
  live: KubeObject | undefined,
  force: boolean,
): Promise<void> {
  if (force) return;
  const [preview, blue, green, history] = await Promise.all([
    client.get('v1', 'Service', spec.namespace, `${spec.app}-preview`),
    client.get('apps/v1', 'Deployment', spec.namespace, deploymentName(spec.app, 'blue')),
    client.get('apps/v1', 'Deployment', spec.namespace, deploymentName(spec.app, 'green')),
    client.get('v1', 'ConfigMap', spec.namespace, historyName(spec.app)),
  ]);
  const owned = [live, preview, blue, green, history].flatMap((object) => {
    const managers = foreignOwners(object);
    return managers ? [{ object: object!, managers }] : [];
  });
  if (owned.length === 0) return;
  const list = owned
    .map((o) => `${o.object.kind} ${spec.namespace}/${o.object.metadata.name} (written by ${o.managers.join(', ')})`)
    .join('; ');
  throw new PhaseError(
    'read',
    `the first deploy of ${spec.app} would take over objects another manager owns: ${list}. Nothing was applied`,
    'choose another app name, delete or rename those objects, or set force: true to take them over on purpose',
  );
}
