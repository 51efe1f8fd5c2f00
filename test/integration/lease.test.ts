// The app lock on the real API server, with runners whose clocks disagree: a lease is judged by the
// local time since it was last seen to change, written only with the resourceVersion read, and a holder
// that lost it stops before the switch.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { PhaseError } from '@deploy-suite/action-kit';
import { LeaseBusyError, LeaseLostError, acquireLease, assertLockHeld, type KubeObject } from '@deploy-suite/kube';
import { useNamespace } from '../support/namespace.js';

const namespace = `lease-${randomBytes(3).toString('hex')}`;
const cluster = useNamespace(namespace);
const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
type Lease = KubeObject & { spec: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number } };
const readLease = (name: string) => cluster().get<Lease>('coordination.k8s.io/v1', 'Lease', namespace, name);

describe('the app lock between runners with skewed clocks', () => {
  it('a runner 60 s ahead does not take a lease that is being renewed', async () => {
    const held = await acquireLease(cluster(), namespace, 'ahead', 'runner-a', { durationSeconds: 3, waitMs: 1000 });
    try {
      const started = Date.now();
      // Runner B's clock is a minute ahead: by renewTime (A's clock) the lease looks 60 s stale to it.
      const taking = acquireLease(cluster(), namespace, 'ahead', 'runner-b', {
        durationSeconds: 3,
        waitMs: 5000,
        now: () => Date.now() + 60_000,
      });
      await expect(taking).rejects.toBeInstanceOf(LeaseBusyError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(4500); // it waited, following A's renewals
      expect((await readLease('ahead'))?.spec.holderIdentity).toBe('runner-a');
      expect(() => held.assertHeld()).not.toThrow();
    } finally {
      await held.release();
    }
  }, 30_000);

  it('a lease whose holder stopped renewing is taken after its duration by the local clock, even with a renewTime far in the future', async () => {
    // A holder whose clock ran an hour ahead, then died: its renewTime stays in the future.
    await cluster().request('POST', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`, {
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'future' },
        spec: { holderIdentity: 'runner-dead', leaseDurationSeconds: 2, renewTime: microTime(Date.now() + 3600_000) },
      },
    });
    const started = Date.now();
    const waitedFor: string[] = [];
    const held = await acquireLease(cluster(), namespace, 'future', 'runner-b', {
      durationSeconds: 2,
      waitMs: 10_000,
      onWait: (holder) => waitedFor.push(holder),
    });
    try {
      const waited = Date.now() - started;
      expect(waitedFor).toEqual(['runner-dead']);
      expect(waited).toBeGreaterThanOrEqual(2000);
      expect(waited).toBeLessThan(8000);
      expect((await readLease('future'))?.spec.holderIdentity).toBe('runner-b');
    } finally {
      await held.release();
    }
    expect(await readLease('future')).toBeUndefined();
  }, 30_000);

  it('a holder whose lease was taken sees it lost: its renewal does not overwrite the new holder, and it stops before the switch', async () => {
    const held = await acquireLease(cluster(), namespace, 'taken', 'runner-a', { durationSeconds: 3, waitMs: 1000 });
    try {
      // Another runner takes it over (as one that judged it lapsed would): a write of its own.
      const current = (await readLease('taken'))!;
      await cluster().request('PUT', `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/taken`, {
        body: { ...current, spec: { ...current.spec, holderIdentity: 'runner-b', renewTime: microTime(Date.now()) } },
      });
      // A's next renewal (every second at this duration) meets the new resourceVersion: a 409, not an overwrite.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect((await readLease('taken'))?.spec.holderIdentity).toBe('runner-b');
      expect(() => held.assertHeld()).toThrow(LeaseLostError);
      expect(() => held.assertHeld()).toThrow(/held by 'runner-b'/);
      let stopped: unknown;
      try {
        assertLockHeld(held, 'shop', 'switch');
      } catch (error) {
        stopped = error;
      }
      expect(stopped).toBeInstanceOf(PhaseError);
      expect(String((stopped as Error).message)).toMatch(
        /deploy lock of shop was lost .* live traffic was not switched/,
      );
    } finally {
      await held.release(); // not ours any more: left to runner-b
    }
    expect((await readLease('taken'))?.spec.holderIdentity).toBe('runner-b');
  }, 30_000);

  it('a holder that cannot renew for two thirds of its duration stops before the switch', async () => {
    let offset = 0;
    const held = await acquireLease(cluster(), namespace, 'stale', 'runner-a', {
      durationSeconds: 30,
      waitMs: 1000,
      now: () => Date.now() + offset,
    });
    try {
      expect(() => held.assertHeld()).not.toThrow();
      offset = 21_000; // 21 s pass with no renewal landing (renewals run every 10 s: none has yet)
      expect(() => held.assertHeld()).toThrow(/last renewal landed 21 s ago/);
    } finally {
      await held.release();
    }
  }, 30_000);
});
