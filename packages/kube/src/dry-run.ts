import type { KubeApi, KubeObject } from './client.js';
import {
  configHash,
  digestOf,
  planDeploy,
  readLiveState,
  renderColourObjects,
  renderDeployment,
  renderServices,
  stateAnnotations,
  switchedState,
  type AppSpec,
} from './bluegreen.js';
import { FIELD_MANAGER, checkFirstDeployOwnership } from './ownership.js';
import { highestRevision, readHistory } from './history.js';

export interface ObjectChange {
  kind: string;
  name: string;
  change: 'create' | 'update' | 'unchanged';
  /** `path: before → after` for each field that would change. */
  fields: string[];
}

// Fields the server owns or that change on every apply: never part of a diff a person wants to read.
const IGNORED =
  /^(metadata\.(managedFields|resourceVersion|uid|creationTimestamp|generation|annotations\.deploy-suite\.dev\/updated-at)|status)(\.|\[|$)/;

// A Secret's values never reach a diff: the line says that a key changed, not to what.
const SECRET_VALUES = /^(data|stringData)\./;

/** Flattens two objects to `path: before → after` lines (`secret`: values hidden). Pure. */
export function diffObjects(before: unknown, after: unknown, path = '', secret = false): string[] {
  if (IGNORED.test(path)) return [];
  if (secret && SECRET_VALUES.test(path))
    return JSON.stringify(before) === JSON.stringify(after)
      ? []
      : [`${path}: ${before === undefined ? 'added' : after === undefined ? 'removed' : 'changed'} (value hidden)`];
  if (before !== null && after !== null && typeof before === 'object' && typeof after === 'object') {
    const keys =
      Array.isArray(before) || Array.isArray(after)
        ? [...Array(Math.max((before as unknown[]).length ?? 0, (after as unknown[]).length ?? 0)).keys()].map(String)
        : [...new Set([...Object.keys(before as object), ...Object.keys(after as object)])].sort();
    return keys.flatMap((key) => {
      const child = Array.isArray(after) || Array.isArray(before) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      return diffObjects(
        (before as Record<string, unknown>)[key],
        (after as Record<string, unknown>)[key],
        child,
        secret,
      );
    });
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  return [`${path}: ${show(before)} → ${show(after)}`];
}

/**
 * What a deploy would change, asked of the API server itself (server-side dry run: admission and
 * validation run, nothing is stored). Nothing in the cluster changes and no lock is taken.
 */
export async function dryRunDeploy(
  client: KubeApi,
  spec: AppSpec,
  force = false,
): Promise<{ changes: ObjectChange[]; target: string; revision: number }> {
  const [live, history] = await Promise.all([
    client.get('v1', 'Service', spec.namespace, spec.app),
    // Only for the revision number it would get: a PR check without the right to read it still runs.
    readHistory(client, spec.namespace, spec.app).catch(() => []),
  ]);
  const state = readLiveState(live);
  // A PR check says it too when the first deploy would stop on objects someone else owns.
  if (!state) await checkFirstDeployOwnership(client, spec, live, force);
  const digest = digestOf(spec.image);
  const config = configHash(spec);
  const plan = planDeploy(state, digest, config, highestRevision(history));
  // Shared objects are applied on every run: a no-op deploy shows their changes too.
  const shared = spec.shared ?? [];
  if (plan.kind === 'noop') {
    const changes = await diffAll(client, shared);
    return { changes, target: plan.colour, revision: plan.revision };
  }
  const next = switchedState(plan, digest, config);
  const objects: KubeObject[] = [
    ...(spec.config ?? []),
    ...shared,
    renderDeployment(spec, plan.target, plan.revision, config),
    ...renderColourObjects(spec, plan.target),
    ...renderServices(spec, plan.target, stateAnnotations(next)),
  ];
  return { changes: await diffAll(client, objects), target: plan.target, revision: plan.revision };
}

async function diffAll(client: KubeApi, objects: KubeObject[]): Promise<ObjectChange[]> {
  const changes: ObjectChange[] = [];
  for (const object of objects) {
    const current = await client.get(object.apiVersion, object.kind, object.metadata.namespace, object.metadata.name);
    const result = await client.apply(object, { fieldManager: FIELD_MANAGER, dryRun: true });
    const fields = current ? diffObjects(current, result, '', object.kind === 'Secret') : [];
    changes.push({
      kind: object.kind,
      name: object.metadata.name,
      change: current ? (fields.length ? 'update' : 'unchanged') : 'create',
      fields,
    });
  }
  return changes;
}
