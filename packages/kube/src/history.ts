import type { KubeApi, KubeObject } from './client.js';
import type { Colour } from './bluegreen.js';

export interface HistoryEntry {
  revision: number;
  digest: string;
  /** The configuration hash the revision ran (configHash), when the suite recorded it. */
  config?: string;
  colour: Colour;
  /** deploy or rollback */
  action: string;
  at: string;
  runUrl?: string;
}

export const HISTORY_LIMIT = 20;

export function historyName(app: string): string {
  return `${app}-deploy-history`;
}

/** Adds an entry, newest first, keeping the last HISTORY_LIMIT (a re-run of a revision replaces it). Pure. */
export function appendHistory(entries: HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  return [entry, ...entries.filter((e) => !(e.revision === entry.revision && e.action === entry.action))].slice(
    0,
    HISTORY_LIMIT,
  );
}

export async function readHistory(client: KubeApi, namespace: string, app: string): Promise<HistoryEntry[]> {
  const map = await client.get<KubeObject & { data?: Record<string, string> }>(
    'v1',
    'ConfigMap',
    namespace,
    historyName(app),
  );
  try {
    return JSON.parse(map?.data?.history ?? '[]') as HistoryEntry[];
  } catch {
    return [];
  }
}

/** `current`: the history as read under the app's lock, when the caller has it (saves reading it again). */
export async function recordHistory(
  client: KubeApi,
  namespace: string,
  app: string,
  entry: HistoryEntry,
  fieldManager: string,
  current?: HistoryEntry[],
): Promise<HistoryEntry[]> {
  const entries = appendHistory(current ?? (await readHistory(client, namespace, app)), entry);
  await client.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: historyName(app),
        namespace,
        labels: { 'app.kubernetes.io/name': app, 'app.kubernetes.io/managed-by': 'deploy-suite' },
      },
      data: { history: JSON.stringify(entries, null, 1) },
    },
    { fieldManager },
  );
  return entries;
}
