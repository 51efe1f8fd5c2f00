import { KubeApiError, type KubeApi, type KubeObject } from './client.js';

interface LeaseObject extends KubeObject {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface HeldLease {
  name: string;
  /**
   * Throws LeaseLostError unless the lease is still surely ours: not taken by another holder, and
   * renewed recently enough that no other runner can have judged it lapsed. Called before the switch.
   */
  assertHeld(): void;
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

export class LeaseLostError extends Error {
  constructor(
    readonly lease: string,
    reason: string,
  ) {
    super(`the lease ${lease} is no longer ours: ${reason}`);
    this.name = 'LeaseLostError';
  }
}

export interface LeaseOptions {
  durationSeconds: number;
  waitMs: number;
  onWait?: (holder: string) => void;
  /** This runner's clock (ms); only ever compared with itself. */
  now?: () => number;
}

// Kubernetes MicroTime: RFC 3339 with microseconds.
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * Whether another holder's lease has lapsed, judged as client-go's leader election does: by this
 * runner's own clock since it last saw the lease change (`observedAt`), never by the holder's
 * renewTime, which is the holder's clock (a runner 30 s ahead would otherwise take a live lease). Pure.
 */
export function leaseLapsed(spec: LeaseObject['spec'], observedAt: number, now: number): boolean {
  if (!spec.holderIdentity) return true;
  return observedAt + (spec.leaseDurationSeconds ?? 0) * 1000 <= now;
}

/**
 * Takes a coordination.k8s.io Lease for one app so only one deploy or rollback runs at a time.
 * Free, or already ours (a re-run of the same workflow run): taken at once. Held by another: waited
 * for, following the lease by watch, up to `waitMs`; taken once it has not changed for its whole
 * duration by this runner's clock. Every write carries the resourceVersion it read (a lost race is a
 * 409, never an overwrite). Renewed while held.
 */
export async function acquireLease(
  client: KubeApi,
  namespace: string,
  name: string,
  holder: string,
  options: LeaseOptions,
): Promise<HeldLease> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.waitMs;
  const path = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const spec = () => ({
    holderIdentity: holder,
    leaseDurationSeconds: options.durationSeconds,
    acquireTime: microTime(now()),
    renewTime: microTime(now()),
  });
  // The last version of the lease seen, and when (this runner's clock).
  let observed: { version: string; at: number } | undefined;
  const observe = (lease: LeaseObject): number => {
    const version = lease.metadata.resourceVersion ?? '';
    if (observed?.version !== version) observed = { version, at: now() };
    return observed.at;
  };
  let told = false;
  for (;;) {
    let current: LeaseObject | undefined;
    try {
      current = await client.request<LeaseObject>('POST', path, {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'deploy-suite' } },
          spec: spec(),
        },
      });
      return hold(client, namespace, name, holder, current, options.durationSeconds, now);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 409)) throw error;
    }
    current = await client.get<LeaseObject>('coordination.k8s.io/v1', 'Lease', namespace, name);
    if (!current) continue; // released in between: try to create again
    const seenAt = observe(current);
    if (current.spec.holderIdentity === holder || leaseLapsed(current.spec, seenAt, now())) {
      try {
        // current carries its resourceVersion: if anyone wrote the lease since, this is a 409.
        const taken = await client.request<LeaseObject>('PUT', `${path}/${name}`, {
          body: {
            ...current,
            spec: {
              ...spec(),
              leaseTransitions: (current.spec.leaseTransitions ?? 0) + (current.spec.holderIdentity === holder ? 0 : 1),
            },
          },
        });
        return hold(client, namespace, name, holder, taken, options.durationSeconds, now);
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 409)) throw error;
        continue; // someone else wrote it first: look again
      }
    }
    const other = current.spec.holderIdentity ?? '';
    if (now() >= deadline) throw new LeaseBusyError(other, `${namespace}/${name}`);
    if (!told) options.onWait?.(other);
    told = true;
    // Follow the lease until it is deleted, changes hands, or has not changed for its duration.
    const lapsesIn = seenAt + (current.spec.leaseDurationSeconds ?? 0) * 1000 - now() + 100;
    await client.watchObject<LeaseObject>(
      'coordination.k8s.io/v1',
      'Lease',
      namespace,
      name,
      current.metadata.resourceVersion,
      (type, lease) => {
        if (type === 'DELETED') return true;
        observe(lease); // a renewal: the lapse is counted from now again
        return lease.spec.holderIdentity !== other;
      },
      { timeoutMs: Math.max(200, Math.min(deadline - now(), lapsesIn)) },
    );
  }
}

function hold(
  client: KubeApi,
  namespace: string,
  name: string,
  holder: string,
  taken: LeaseObject,
  durationSeconds: number,
  now: () => number,
): HeldLease {
  const lease = `${namespace}/${name}`;
  let current = taken;
  let renewedAt = now();
  let lost: string | undefined;
  let renewing: Promise<void> | undefined;
  const renew = async () => {
    try {
      const body = { ...current, spec: { ...current.spec, holderIdentity: holder, renewTime: microTime(now()) } };
      const at = now();
      current = await client.request<LeaseObject>(
        'PUT',
        `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`,
        { body },
      );
      renewedAt = at;
    } catch (error) {
      if (error instanceof KubeApiError && (error.status === 409 || error.status === 404)) {
        // Written by someone else since our last renewal, or deleted: ours only if it still names us.
        const seen = await client
          .get<LeaseObject>('coordination.k8s.io/v1', 'Lease', namespace, name)
          .catch(() => current);
        if (seen?.spec.holderIdentity === holder) current = seen;
        else lost = `it is held by '${seen?.spec.holderIdentity ?? '(nobody: deleted)'}'`;
      }
      // Any other failure only ages the lease: assertHeld judges by the last renewal that landed.
    }
  };
  const timer = setInterval(
    () => {
      if (lost || renewing) return;
      renewing = renew().finally(() => (renewing = undefined));
    },
    Math.max(1000, (durationSeconds * 1000) / 3),
  );
  timer.unref();
  return {
    name: lease,
    assertHeld() {
      if (lost) throw new LeaseLostError(lease, lost);
      // Another runner may take it once it saw no change for a whole duration; with a third of it left
      // for the switch itself, a lease not renewed for two thirds of it is no longer safe to act on.
      const age = now() - renewedAt;
      if (age > (durationSeconds * 1000 * 2) / 3) {
        throw new LeaseLostError(
          lease,
          `its last renewal landed ${Math.round(age / 1000)} s ago (duration ${durationSeconds} s)`,
        );
      }
    },
    async release() {
      clearInterval(timer);
      await renewing;
      const seen = await client.get<LeaseObject>('coordination.k8s.io/v1', 'Lease', namespace, name);
      if (seen?.spec.holderIdentity !== holder) return;
      await client
        .delete('coordination.k8s.io/v1', 'Lease', namespace, name, seen.metadata.resourceVersion)
        .catch((error: unknown) => {
          if (!(error instanceof KubeApiError && error.status === 409)) throw error;
        });
    },
  };
}
