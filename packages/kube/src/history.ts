import type { KubeApi, KubeObject } from './client.js';
import type { Colour } from './bluegreen.js';

export interface HistoryEntry {
  revision: number;
  digest: string;
  /** The configuration hash the revision ran (configHash), when the suite recorded it. */
  config?: string;
  colour: Colour;
  /** deploy, rollback, scale-down; deploy-failed (a deploy that never went live), analysis (verify-rollback's). */
  action: HistoryAction;
  at: string;
  runUrl?: string;
  /** What came of it: a deploy went live or was held; an analysis passed, failed or was inconclusive. */
  outcome?: 'live' | 'held' | 'failed' | 'passed' | 'inconclusive';
  /** Seconds it took: a deploy from its run's start to live (or held), a rollback to the switch back, an analysis its span. */
  seconds?: number;
  /** A deploy: seconds from its commit to live (the lead time for changes). */
  leadSeconds?: number;
  /** A rollback: the revision it rolled away from, and who asked for it. */
  fromRevision?: number;
  trigger?: 'analysis' | 'manual';
}

export type HistoryAction = 'deploy' | 'rollback' | 'scale-down' | 'deploy-failed' | 'analysis';

/** Enough for the KPIs over the last releases (each release writes 2 to 4 entries); about 30 KB of JSON. */
export const HISTORY_LIMIT = 100;

/** When the run started (epoch ms) and, for a deploy, when its commit was made: the history's durations. */
export interface ReleaseClock {
  startedAt: number;
  committedAt?: string;
}

/** The seconds since the run started, and since the commit when it is known (rounded to ms). Pure. */
export function elapsed(
  clock: ReleaseClock | undefined,
  now = Date.now(),
): Pick<HistoryEntry, 'seconds' | 'leadSeconds'> {
  if (!clock) return {};
  const round = (ms: number) => Math.round(ms) / 1000;
  const committed = clock.committedAt ? Date.parse(clock.committedAt) : NaN;
  return {
    seconds: round(now - clock.startedAt),
    ...(Number.isFinite(committed) && committed <= now ? { leadSeconds: round(now - committed) } : {}),
  };
}

/**
 * The highest revision that went live (0 for none): the next deploy's number is above it, so a rollback
 * never makes a number name two releases. A failed attempt takes none: its re-run is the same revision
 * (its hooks replaced, not run under a new name).
 */
export function highestRevision(entries: HistoryEntry[]): number {
  return entries.reduce(
    (max, e) => (putLive(e) && Number.isInteger(e.revision) && e.revision > max ? e.revision : max),
    0,
  );
}

/** Whether an entry put its revision live (a deploy or a rollback): what a rollback may go back to. */
export function putLive(entry: HistoryEntry): boolean {
  return entry.action === 'deploy' || entry.action === 'rollback';
}

export function historyName(app: string): string {
  return `${app}-deploy-history`;
}

/**
 * Adds an entry, newest first, keeping the last HISTORY_LIMIT: a re-run of a revision's deploy, rollback
 * or analysis replaces it; every failed deploy is kept (each is an attempt the success rate counts). Pure.
 */
export function appendHistory(entries: HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  const replaces = (e: HistoryEntry) =>
    entry.action !== 'deploy-failed' && e.revision === entry.revision && e.action === entry.action;
  return [entry, ...entries.filter((e) => !replaces(e))].slice(0, HISTORY_LIMIT);
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
