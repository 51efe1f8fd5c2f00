import type { KubeApi } from './client.js';
import { lockApp, type LockOptions } from './app-lock.js';
import { recordHistory, type HistoryEntry } from './history.js';
import { FIELD_MANAGER } from './ownership.js';

/**
 * Records an analysis's verdict and span in the app's history, under the app's lock as every record is
 * (a deploy recording at the same time would otherwise lose one of the two). Only the KPIs read it:
 * a lock not free within the wait, or a record that fails, is a log line, never the run's failure.
 */
export async function recordAnalysis(
  client: KubeApi,
  app: { namespace: string; app: string },
  entry: Omit<HistoryEntry, 'action'> & { outcome: 'passed' | 'failed' | 'inconclusive' },
  lock: LockOptions,
): Promise<boolean> {
  let lease;
  try {
    lease = await lockApp(client, app.namespace, app.app, { ...lock, lockWaitMs: Math.min(lock.lockWaitMs, 10_000) });
  } catch (error) {
    lock.log(
      `the analysis is not in the history (the lock was busy: ${error instanceof Error ? error.message : String(error)})`,
    );
    return false;
  }
  try {
    await recordHistory(client, app.namespace, app.app, { ...entry, action: 'analysis' }, FIELD_MANAGER);
    return true;
  } catch (error) {
    lock.log(`the analysis is not in the history: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  } finally {
    await lease.release().catch(() => undefined);
  }
}
