import { describe, expect, it } from '@jest/globals';
import {
  appendHistory,
  diffObjects,
  HISTORY_LIMIT,
  foreignOwners,
  leaseLapsed,
  resourcePath,
  type HistoryEntry,
} from '../src/index.js';

describe('leaseLapsed: by the local time since the lease was last seen to change', () => {
  const seen = 1_000_000;
  it.each([
    ['renewed by its holder just now', { holderIdentity: 'a', leaseDurationSeconds: 30 }, seen + 29_999, false],
    ['unchanged for exactly its duration', { holderIdentity: 'a', leaseDurationSeconds: 30 }, seen + 30_000, true],
    ['unchanged for longer', { holderIdentity: 'a', leaseDurationSeconds: 10 }, seen + 60_000, true],
    [
      'a holder clock far behind (renewTime long past) but seen just now',
      { holderIdentity: 'a', leaseDurationSeconds: 30, renewTime: '2000-01-01T00:00:00.000000Z' },
      seen + 1,
      false,
    ],
    [
      'a holder clock far ahead (renewTime in the future) and unchanged',
      { holderIdentity: 'a', leaseDurationSeconds: 30, renewTime: '2999-01-01T00:00:00.000000Z' },
      seen + 30_000,
      true,
    ],
    [
      'both acquireTime and renewTime, seen just now',
      {
        holderIdentity: 'a',
        leaseDurationSeconds: 30,
        acquireTime: '2000-01-01T00:00:00.000000Z',
        renewTime: '2000-01-01T00:00:01.000000Z',
      },
      seen,
      false,
    ],
    ['no holder', { leaseDurationSeconds: 30 }, seen, true],
    ['no duration', { holderIdentity: 'a' }, seen, true],
  ])('%s', (_name, spec, now, lapsed) => {
    expect(leaseLapsed(spec, seen, now)).toBe(lapsed);
  });
});

describe('foreignOwners: objects a first deploy must not take over', () => {
  const object = (labels: Record<string, string> | undefined, managedFields?: object[]) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'shop', ...(labels ? { labels } : {}), ...(managedFields ? { managedFields } : {}) },
  });
  it.each([
    ['no object', undefined, undefined],
    [
      'one the suite made',
      object({ 'app.kubernetes.io/managed-by': 'deploy-suite' }, [{ manager: 'kubectl-edit' }]),
      undefined,
    ],
    [
      'one kubectl applied',
      object({ app: 'shop' }, [{ manager: 'kubectl-client-side-apply', operation: 'Update' }]),
      ['kubectl-client-side-apply'],
    ],
    [
      'one with status written by a controller',
      object(undefined, [
        { manager: 'helm' },
        { manager: 'kube-controller-manager', subresource: 'status' },
        { manager: 'helm' },
      ]),
      ['helm'],
    ],
    [
      'one labelled by another tool',
      object({ 'app.kubernetes.io/managed-by': 'Helm' }, [{ manager: 'helm' }]),
      ['helm'],
    ],
    ['one with no managed fields', object(undefined), ['(unknown)']],
  ])('%s', (_name, input, owners) => {
    expect(foreignOwners(input as never)).toEqual(owners);
  });
});

describe('history', () => {
  const entry = (revision: number, action: HistoryEntry['action'] = 'deploy'): HistoryEntry => ({
    revision,
    digest: `sha256:${revision}`,
    colour: revision % 2 ? 'blue' : 'green',
    action,
    at: '2026-11-27T00:00:00Z',
  });
  it('keeps the newest first, replaces a re-run of the same revision, and is bounded', () => {
    let entries: HistoryEntry[] = [];
    for (let r = 1; r <= HISTORY_LIMIT + 5; r++) entries = appendHistory(entries, entry(r));
    expect(entries).toHaveLength(HISTORY_LIMIT);
    expect(entries[0]!.revision).toBe(HISTORY_LIMIT + 5);
    expect(
      appendHistory(entries, { ...entry(HISTORY_LIMIT + 5), digest: 'again' }).filter(
        (e) => e.revision === HISTORY_LIMIT + 5,
      ),
    ).toHaveLength(1);
    expect(appendHistory([entry(3)], entry(3, 'rollback'))).toHaveLength(2);
    // Every failed attempt is kept: the success rate counts each.
    expect(appendHistory([entry(4, 'deploy-failed')], entry(4, 'deploy-failed'))).toHaveLength(2);
  });
});

describe('diffObjects', () => {
  it('lists changed fields by path and ignores what the server owns', () => {
    const before = {
      metadata: { name: 'a', resourceVersion: '1', managedFields: [{}], annotations: { x: '1' } },
      spec: { replicas: 2, template: { spec: { containers: [{ image: 'a@1' }] } } },
      status: { ready: 1 },
    };
    const after = {
      metadata: { name: 'a', resourceVersion: '2', managedFields: [{}, {}], annotations: { x: '2', y: 'new' } },
      spec: { replicas: 2, template: { spec: { containers: [{ image: 'a@2' }] } } },
      status: { ready: 0 },
    };
    expect(diffObjects(before, after)).toEqual([
      'metadata.annotations.x: "1" → "2"',
      'metadata.annotations.y: (none) → "new"',
      'spec.template.spec.containers[0].image: "a@1" → "a@2"',
    ]);
    expect(diffObjects(before, before)).toEqual([]);
  });
});

describe('resourcePath', () => {
  it.each([
    ['apps/v1', 'Deployment', 'ns', 'web', '/apis/apps/v1/namespaces/ns/deployments/web'],
    ['v1', 'Service', 'ns', undefined, '/api/v1/namespaces/ns/services'],
    ['v1', 'Namespace', 'ignored', 'prod', '/api/v1/namespaces/prod'],
    ['coordination.k8s.io/v1', 'Lease', 'ns', 'a-deploy', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/a-deploy'],
  ])('%s %s', (apiVersion, kind, ns, name, path) => {
    expect(resourcePath(apiVersion, kind, ns, name)).toBe(path);
  });
  it('refuses kinds the suite does not manage', () => {
    expect(() => resourcePath('v1', 'Gizmo')).toThrow(/not one the suite manages/);
  });
});
