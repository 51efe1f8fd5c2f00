import { KubeApiError, type KubeClient, type KubeObject } from './client.js';

interface LeaseObject extends KubeObject {
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string };
}

export interface HeldLease {
  name: string;
  /** Stops renewing and deletes the lease if it is still ours. */
  release(): Promise<void>;
}

export class LeaseBusyError extends Error {
  constructor(
    readonly holder: string,
    readonly lease: string,
  ) {
    super(`the lease ${lease} is held by '${holder}'`);
    this.name = 'LeaseBusyError';
  }
}

// Kubernetes MicroTime: RFC 3339 with microseconds.
const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** Whether a lease has lapsed: not renewed within its duration. Pure. */
export function leaseExpired(spec: LeaseObject['spec'], now: Date): boolean {
  if (!spec.holderIdentity) return true;
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
  if (Number.isNaN(renewed)) return true;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
}

/**
 * Takes a coordination.k8s.io Lease for one app so only one deploy or rollback runs at a time.
 * Free, expired, or already ours (a re-run of the same workflow run): taken at once. Held by another:
 * waited for, following the lease by watch, up to `waitMs`. Renewed while held.
 */
export async function acquireLease(
  client: KubeClient,
  namespace: string,
  name: string,
  holder: string,
  options: { durationSeconds: number; waitMs: number; onWait?: (holder: string) => void },
): Promise<HeldLease> {
  const deadline = Date.now() + options.waitMs;
  const spec = () => ({
    holderIdentity: holder,
    leaseDurationSeconds: options.durationSeconds,
    acquireTime: microTime(new Date()),
    renewTime: microTime(new Date()),
  });
  let told = false;
  for (;;) {
    let current: LeaseObject | undefined;
    try {
      current = await client.request<LeaseObject>(
        'POST',
        `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
        {
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'deploy-suite' } },
            spec: spec(),
          },
        },
      );
      return hold(client, namespace, name, holder, current, options.durationSeconds);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 409)) throw error;
    }
    current = await client.get<LeaseObject>('coordination.k8s.io/v1', 'Lease', namespace, name);
    if (!current) continue; // released in between: try to create again
    if (current.spec.holderIdentity === holder || leaseExpired(current.spec, new Date())) {
      try {
        const taken = await client.request<LeaseObject>(
          'PUT',
          `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`,
          {
            body: {
              ...current,
              spec: {
                ...spec(),
                leaseTransitions: ((current.spec as { leaseTransitions?: number }).leaseTransitions ?? 0) + 1,
              },
            },
          },
        );
        return hold(client, namespace, name, holder, taken, options.durationSeconds);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 409)) throw error;
        continue; // someone else took it first: look again
      }
    }
    const other = current.spec.holderIdentity ?? '';
    if (Date.now() >= deadline) throw new LeaseBusyError(other, `${namespace}/${name}`);
    if (!told) options.onWait?.(other);
    told = true;
    // Follow the lease until it changes, is deleted, or would expire.
    const renewed = Date.parse(current.spec.renewTime ?? '') || Date.now();
    const expiresIn = renewed + (current.spec.leaseDurationSeconds ?? 0) * 1000 - Date.now() + 100;
    await client.watchObject<LeaseObject>(
      'coordination.k8s.io/v1',
      'Lease',
      namespace,
      name,
      current.metadata.resourceVersion,
      (type, lease) =>
        type === 'DELETED' || lease.spec.holderIdentity !== other || leaseExpired(lease.spec, new Date()),
      {
        timeoutMs: Math.max(200, Math.min(deadline - Date.now(), expiresIn)),
      },
    );
  }
}

function hold(
  client: KubeClient,
  namespace: string,
  name: string,
  holder: string,
  lease: LeaseObject,
  durationSeconds: number,
): HeldLease {
  let resourceVersion = lease.metadata.resourceVersion;
  const timer = setInterval(
    () => {
      client
        .mergePatch<LeaseObject>('coordination.k8s.io/v1', 'Lease', namespace, name, {
          spec: { renewTime: microTime(new Date()) },
        })
        .then((renewed) => (resourceVersion = renewed.metadata.resourceVersion))
        .catch(() => undefined); // a missed renewal only shortens the lease
    },
    Math.max(1000, (durationSeconds * 1000) / 3),
  );
  timer.unref();
  return {
    name: `${namespace}/${name}`,
    async release() {
      clearInterval(timer);
      const current = await client.get<LeaseObject>('coordination.k8s.io/v1', 'Lease', namespace, name);
      if (current?.spec.holderIdentity !== holder) return;
      await client
        .delete('coordination.k8s.io/v1', 'Lease', namespace, name, current.metadata.resourceVersion ?? resourceVersion)
        .catch((error: unknown) => {
          if (!(error instanceof KubeApiError && error.status === 409)) throw error;
        });
    },
  };
}
