/**
 * Hooks: Jobs of the manifests run to completion around a release. `pre-switch` ones run against the new
 * colour once its preview checks pass and before the switch (migrations, smoke tests), so a failure or a
 * timeout stops the release with live traffic untouched; `post-rollback` ones after a rollback. One Job
 * per hook and revision: a re-run of a revision whose hook completed does not run it again; one that
 * failed is replaced.
 */
import { PhaseError } from '@deploy-suite/action-kit';
import type { AppSpec, Colour } from './bluegreen.js';
import { MANAGED_BY, NAME_LABEL, COLOUR_LABEL } from './bluegreen.js';
import { KubeApiError, type KubeApi, type KubeObject } from './client.js';
import { FIELD_MANAGER } from './ownership.js';
import type { Hook, HookEvent } from './app-manifests.js';

export interface HookResult {
  name: string;
  outcome: 'complete' | 'failed' | 'timed out' | 'already complete';
  seconds: number;
  /** Why it failed, from the Job's conditions. */
  reason?: string;
  /** The last lines its pod logged, when the Role may read them. */
  logs?: string;
}

type Job = KubeObject & {
  spec?: Record<string, unknown> & {
    activeDeadlineSeconds?: number;
    template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: Container[] } };
  };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};
interface Container {
  name?: string;
  image?: string;
  env?: { name: string; value?: string }[];
}

/** The Job of one hook for one revision: named `<job>-r<revision>`, the release's image, bounded in time. Pure. */
export function renderHookJob(
  hook: Hook,
  spec: AppSpec,
  run: { colour: Colour; revision: number; timeoutSeconds: number },
): KubeObject {
  const job = structuredClone(hook.job) as Job;
  const suffix = `-r${run.revision}`;
  const name = `${job.metadata.name.slice(0, 63 - suffix.length)}${suffix}`;
  const port = (spec.serviceTemplate?.spec as { ports?: { port?: number }[] } | undefined)?.ports?.[0]?.port ?? 80;
  const env = [
    { name: 'DEPLOY_SUITE_COLOUR', value: run.colour },
    { name: 'DEPLOY_SUITE_REVISION', value: String(run.revision) },
    // The new colour, reachable before the switch: what a smoke test calls.
    { name: 'DEPLOY_SUITE_PREVIEW_URL', value: `http://${spec.app}-preview.${spec.namespace}.svc:${port}` },
  ];
  const labels = {
    [NAME_LABEL]: spec.app,
    [COLOUR_LABEL]: run.colour,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'deploy-suite.dev/hook': hook.event,
  };
  const template = job.spec?.template ?? {};
  return {
    apiVersion: job.apiVersion,
    kind: 'Job',
    metadata: {
      name,
      namespace: spec.namespace,
      labels: { ...(job.metadata.labels ?? {}), ...labels },
      annotations: { ...(job.metadata.annotations ?? {}), 'deploy-suite.dev/revision': String(run.revision) },
    },
    spec: {
      ttlSecondsAfterFinished: 86400,
      ...job.spec,
      // The Job itself stops at the timeout (its pods killed), not only the wait for it.
      activeDeadlineSeconds: Math.max(
        1,
        Math.min(job.spec?.activeDeadlineSeconds ?? run.timeoutSeconds, run.timeoutSeconds),
      ),
      template: {
        ...template,
        metadata: { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), ...labels } },
        spec: {
          ...(template.spec ?? {}),
          containers: (template.spec?.containers ?? []).map((c) => ({
            ...c,
            image: c.image || spec.image,
            env: [...(c.env ?? []).filter((e) => !env.some((x) => x.name === e.name)), ...env],
          })),
        },
      },
    },
  };
}

/** Whether a Job has finished, and how, from its conditions. Pure. */
export function jobOutcome(job: Job | undefined): { done: false } | { done: true; failed: boolean; reason: string } {
  for (const condition of job?.status?.conditions ?? []) {
    if (condition.status !== 'True') continue;
    if (condition.type === 'Complete') return { done: true, failed: false, reason: 'complete' };
    if (condition.type === 'Failed')
      return {
        done: true,
        failed: true,
        reason: `${condition.reason ?? 'Failed'}${condition.message ? `: ${condition.message}` : ''}`,
      };
  }
  return { done: false };
}

/** The last lines a Job's newest pod logged; a line saying why when they cannot be read. */
async function jobLogs(client: KubeApi, namespace: string, job: string): Promise<string> {
  try {
    const pods = await client.request<{ items: { metadata: { name: string; creationTimestamp?: string } }[] }>(
      'GET',
      `/api/v1/namespaces/${namespace}/pods`,
      { query: { labelSelector: `job-name=${job}` } },
    );
    const newest = pods.items.sort((a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
    )[0];
    if (!newest) return '(no pod)';
    const text = await client.request<string>(
      'GET',
      `/api/v1/namespaces/${namespace}/pods/${newest.metadata.name}/log`,
      { query: { tailLines: 20 }, text: true, once: true },
    );
    return typeof text === 'string' ? text.trimEnd() : JSON.stringify(text);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 403)
      return '(logs not readable: grant get on pods/log, as rbac-manifests.yaml does)';
    return `(logs not readable: ${error instanceof Error ? error.message.slice(0, 200) : String(error)})`;
  }
}

/**
 * Runs the hooks of one event, in the order of the manifests, each to completion; stops at the first that
 * fails or times out (its result last). `log` follows progress.
 */
export async function runHooks(
  client: KubeApi,
  spec: AppSpec,
  event: HookEvent,
  run: { colour: Colour; revision: number; timeoutSeconds: number },
  log: (line: string) => void,
): Promise<HookResult[]> {
  const results: HookResult[] = [];
  for (const hook of (spec.hooks ?? []).filter((h) => h.event === event)) {
    const job = renderHookJob(hook, spec, run) as Job;
    const name = job.metadata.name;
    const started = Date.now();
    const seconds = () => (Date.now() - started) / 1000;
    const existing = await client.get<Job>('batch/v1', 'Job', spec.namespace, name);
    const before = jobOutcome(existing);
    if (before.done && !before.failed) {
      log(`hook ${name}: already complete for revision ${run.revision}, not run again`);
      results.push({ name, outcome: 'already complete', seconds: 0 });
      continue;
    }
    if (existing) {
      // A failed (or abandoned) try of this revision: replaced, its pods with it.
      log(`hook ${name}: replacing the earlier try`);
      await client.request('DELETE', `/apis/batch/v1/namespaces/${spec.namespace}/jobs/${name}`, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
      });
      // From the version read, so a deletion done before the watch starts is still seen.
      await client.watchObject(
        'batch/v1',
        'Job',
        spec.namespace,
        name,
        existing.metadata.resourceVersion,
        (type) => type === 'DELETED',
        { timeoutMs: 30_000 },
      );
    }
    log(`hook ${name}: running (${event}, at most ${run.timeoutSeconds} s)`);
    await client.apply(job, { fieldManager: FIELD_MANAGER });
    let last: Job | undefined;
    await client.watchObject<Job>(
      'batch/v1',
      'Job',
      spec.namespace,
      name,
      undefined,
      (_type, object) => {
        last = object;
        return jobOutcome(object).done;
      },
      // A little past the Job's own deadline, so its Failed (DeadlineExceeded) condition is seen.
      { timeoutMs: (run.timeoutSeconds + Math.min(15, run.timeoutSeconds)) * 1000 },
    );
    const outcome = jobOutcome(last);
    const logs = await jobLogs(client, spec.namespace, name);
    if (outcome.done && !outcome.failed) {
      log(`hook ${name}: complete in ${seconds().toFixed(1)} s`);
      results.push({ name, outcome: 'complete', seconds: seconds(), logs });
      continue;
    }
    const timedOut = !outcome.done || /DeadlineExceeded/.test(outcome.reason);
    results.push({
      name,
      outcome: timedOut ? 'timed out' : 'failed',
      seconds: seconds(),
      reason: outcome.done ? outcome.reason : `not finished in ${run.timeoutSeconds} s`,
      logs,
    });
    break;
  }
  return results;
}

/** A hook that failed or timed out: the phase error, with every hook's result for the summary. */
export class HookError extends PhaseError {
  constructor(
    phase: string,
    message: string,
    fix: string,
    readonly results: HookResult[],
  ) {
    super(phase, message, fix);
    this.name = 'HookError';
  }
}

/** Throws the phase's HookError when a hook failed or timed out (`describe` says what that left); else the results. */
export function hooksPassed(
  results: HookResult[],
  phase: string,
  describe: (failed: HookResult, why: string) => [message: string, fix: string],
): HookResult[] {
  const failed = results.find((r) => r.outcome === 'failed' || r.outcome === 'timed out');
  if (!failed) return results;
  const why = `${failed.name} ${failed.outcome} (${failed.reason})`;
  const [message, fix] = describe(failed, why);
  throw new HookError(phase, `${message}${failed.logs ? `. Its last lines:\n${failed.logs}` : ''}`, fix, results);
}
