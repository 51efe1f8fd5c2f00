import { PhaseError } from '@deploy-suite/action-kit';
import type { KubeApi } from './client.js';
import { acquireLease, LeaseBusyError, LeaseLostError, type HeldLease } from './lease.js';

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
  client: KubeApi,
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

/**
 * Stops a run that no longer surely holds the app's lock before it touches live traffic: another deploy
 * or rollback may be under way, and two switches must never race.
 */
export function assertLockHeld(lease: HeldLease, app: string, phase: string): void {
  try {
    lease.assertHeld();
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    throw new PhaseError(
      phase,
      `the deploy lock of ${app} was lost (${error.message}); another deploy or rollback may be running, so live traffic was not switched`,
      'look at the other run; re-run this one when it is done (check that the API server is reachable and the runner is not starved)',
      { cause: error },
    );
  }
}
