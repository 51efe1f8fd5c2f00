/**
 * An app's manifests from source to the parts of a blue-green app: rendered with the users' tools,
 * their Secrets' values masked before anything can print them, their kinds looked up in the cluster's
 * discovery (any kind, CRDs included), split by app-manifests.ts.
 */
import { maskSecret } from '@deploy-suite/action-kit';
import { isNamespaced, resourceName, type KubeApi, type KubeObject } from './client.js';
import { addAppSecret, splitManifests, type AppManifests } from './app-manifests.js';
import { renderManifests, secretValues, type ManifestSource } from './render-manifests.js';
import type { AccessNeed } from './preflight.js';
import { checkExternalConfig } from './app-config.js';

export async function loadAppManifests(
  client: Pick<KubeApi, 'discover' | 'get'>,
  source: ManifestSource,
  options: { app: string; deployment?: string; appSecret?: KubeObject },
): Promise<AppManifests> {
  const objects = await renderManifests(source);
  for (const value of secretValues(objects)) maskSecret(value);
  await client.discover(objects.filter((o) => o && typeof o.kind === 'string' && typeof o.apiVersion === 'string'));
  const split = splitManifests(objects, {
    app: options.app,
    namespace: source.namespace,
    ...(options.deployment ? { deployment: options.deployment } : {}),
    clusterScoped: (o) => isNamespaced(o.apiVersion, o.kind) === false,
  });
  const app = options.appSecret
    ? {
        ...split,
        ...addAppSecret(split, options.appSecret, {
          app: options.app,
          namespace: source.namespace,
          manifestObjects: objects,
        }),
      }
    : split;
  // What the pod template names outside the manifests must exist before anything is applied.
  await checkExternalConfig(client, source.namespace, app.external);
  return app;
}

/** The rights applying the app's manifests takes beyond a deploy's own: get, create and patch of each kind. */
export function manifestAccess(app: AppManifests): AccessNeed[] {
  const objects = [...app.config, ...(app.hpa ? [app.hpa] : []), ...app.pdbs, ...app.shared];
  const needs = new Map<string, AccessNeed>();
  for (const o of objects) {
    const group = o.apiVersion.includes('/') ? o.apiVersion.slice(0, o.apiVersion.indexOf('/')) : '';
    const resource = resourceName(o.apiVersion, o.kind);
    needs.set(`${group}/${resource}`, { group, resource, verbs: ['get', 'create', 'patch'] });
  }
  // Hook Jobs: made, watched to completion, replaced when a try failed.
  if (app.hooks.length)
    needs.set('batch/jobs', {
      group: 'batch',
      resource: 'jobs',
      verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'],
    });
  return [...needs.values()];
}
