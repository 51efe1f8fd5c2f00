import { PhaseError } from '@deploy-suite/action-kit';
import type { KubeClient } from './client.js';
import { acquireLease, LeaseBusyError, type HeldLease } from './lease.js';

export interface LockOptions {
  /** Who holds the lock: the workflow run, so a re-run of the same run takes it back at once. */
  holder: string;
  lockWaitMs: number;
  leaseSeconds: number;
  log: (message: string) => void;
}

/**
 * The per-app lock every change of an app takes (deploy, scale-down, rollback): the `<app>-deploy` Lease.
 * Waits up to lockWaitMs for another holder; a holder that died stops renewing and its lease expires.
 */
export async function lockApp(
  client: KubeClient,
  namespace: string,
  app: string,
  options: LockOptions,
  phase = 'lock',
): Promise<HeldLease> {
  try {
    return await acquireLease(client, namespace, `${app}-deploy`, options.holder, {
      durationSeconds: options.leaseSeconds,
      waitMs: options.lockWaitMs,
      onWait: (other) => options.log(`waiting for the deploy lock of ${app}, held by ${other}`),
    });
  } catch (error) {
    if (error instanceof LeaseBusyError) {
      throw new PhaseError(
        phase,
        `another deploy or rollback of ${app} holds the lock (${error.holder})`,
        'wait for it to finish, or raise lock-timeout; a lock whose holder died expires by itself',
        { cause: error },
      );
    }
    throw error;
  }
}
