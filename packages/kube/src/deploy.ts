import { PhaseError, type Phases } from '@deploy-suite/action-kit';
import { KubeApiError, type KubeApi, type KubeObject } from './client.js';
import {
  colourSelector,
  configHash,
  deploymentName,
  digestOf,
  parkedPreview,
  planDeploy,
  readLiveState,
  renderColourObjects,
  renderDeployment,
  renderServices,
  stateAnnotations,
  switchedState,
  type AppSpec,
  type Colour,
  type LiveState,
} from './bluegreen.js';
import {
  appendHistory,
  elapsed,
  highestRevision,
  readHistory,
  recordHistory,
  type HistoryEntry,
  type ReleaseClock,
} from './history.js';
import { pruneConfig, writeSnapshot, type PruneResult } from './app-config.js';
import { hooksPassed, runHooks, type HookResult } from './hooks.js';
import { templateHash, withHeld, type HeldRelease } from './hold.js';
import { FIELD_MANAGER, checkFirstDeployOwnership } from './ownership.js';
import { assertLockHeld, lockApp, type LockOptions } from './app-lock.js';
import type { HeldLease } from './lease.js';
import { exceededDeadline, rolloutState, type DeploymentLike } from './rollout.js';
import { podsReport } from './pod-diagnosis.js';

export interface DeployOptions extends LockOptions {
  runUrl?: string;
  /** The app's lock, when the caller holds it already (a rollback deploying a digest): kept, not released. */
  heldLease?: HeldLease;
  /** What the history calls this change (default deploy). */
  historyAction?: 'deploy' | 'rollback';
  /** A first deploy takes over objects other managers wrote (otherwise it stops and names them). */
  force?: boolean;
  /** Checks the idle colour through its preview Service before the switch; throws to refuse it. */
  previewCheck?: (previewService: string) => Promise<void>;
  /** How long each pre-switch hook Job may run (default 300 s). */
  hookTimeoutSeconds?: number;
  /** Pre-switch hooks are not run (a rollback deploying a former revision: its migrations ran then). */
  skipHooks?: boolean;
  /**
   * Held promotion: stop after the preview checks and hooks with the new colour warm behind the preview,
   * live untouched, until a promote (promote.ts) switches or the hold expires.
   */
  hold?: { expiresAt: Date; githubDeployment?: number };
  /** The run's start and its commit's time: the history records the deploy's durations by them. */
  clock?: ReleaseClock;
  /** A rollback that deploys a former revision: what it rolled away from, and who asked. */
  rollbackOf?: { fromRevision: number; trigger: 'analysis' | 'manual' };
}

export interface DeployResult {
  noop: boolean;
  liveColour: Colour;
  previousColour?: Colour;
  revision: number;
  digest: string;
  previousDigest?: string;
  /** The configuration hash live now (configHash), and why this revision is new. */
  config?: string;
  change?: 'image' | 'config' | 'image and config';
  /** What the prune of old revisions' configuration removed or could not. */
  pruned?: PruneResult;
  /** The pre-switch hooks that ran, in order. */
  hooks?: HookResult[];
  /** The release held for promotion (options.hold): live is as it was. */
  held?: HeldRelease;
}

/**
 * One blue-green deploy: lock, read the state the cluster holds, bring up the idle colour, watch it
 * roll out, check it through the preview Service, switch the live Service, record the revision,
 * unlock. Before the switch nothing touches live traffic, so any failure leaves the live colour serving.
 */
export async function bluegreenDeploy(
  client: KubeApi,
  spec: AppSpec,
  options: DeployOptions,
  phases: Phases,
): Promise<DeployResult> {
  const digest = digestOf(spec.image);
  const config = configHash(spec);
  const lease =
    options.heldLease ?? (await phases.run('lock', () => lockApp(client, spec.namespace, spec.app, options)));
  const action = options.historyAction ?? 'deploy';
  try {
    // Read under the lock, so the history cannot change before this run records its revision.
    const [live, history] = await phases.run('read', async () => {
      const read = await Promise.all([
        client.get('v1', 'Service', spec.namespace, spec.app),
        readHistory(client, spec.namespace, spec.app),
      ]);
      // A first deploy: nothing of the app's names may belong to someone else.
      if (!readLiveState(read[0])) await checkFirstDeployOwnership(client, spec, read[0], options.force ?? false);
      return read;
    });
    const state = readLiveState(live);
    const plan = planDeploy(state, digest, config, highestRevision(history));
    if (options.hold && !state)
      throw new PhaseError(
        'read',
        `${spec.app} has nothing live in ${spec.namespace} yet, so there is no traffic to hold a release back from; nothing was applied`,
        'make the first deploy with promote: true (check it with the preview inputs), and hold later releases',
      );
    // Objects of the manifests that belong to no colour: applied on every run, a no-op one included.
    const applyShared = () =>
      Promise.all((spec.shared ?? []).map((object) => client.apply(object, { fieldManager: FIELD_MANAGER })));
    if (plan.kind === 'noop') {
      options.log(plan.reason);
      if (spec.shared?.length) await phases.run('apply', applyShared);
      const current = await client.get<KubeObject & DeploymentLike>(
        'apps/v1',
        'Deployment',
        spec.namespace,
        deploymentName(spec.app, plan.colour),
      );
      if (current && rolloutState(current).phase === 'done') {
        // A run stopped between the switch and the record leaves the revision live but unrecorded, and
        // the preview maybe still on the live colour: both are finished here.
        const [, warmPreview] = renderServices(spec, plan.colour, {});
        await client.apply(warmPreview, { fieldManager: FIELD_MANAGER });
        if (!history.some((h) => h.revision === state!.revision && h.action === 'deploy')) {
          await recordHistory(
            client,
            spec.namespace,
            spec.app,
            {
              revision: state!.revision,
              digest,
              config,
              colour: plan.colour,
              action: 'deploy',
              at: new Date().toISOString(),
              ...(options.runUrl ? { runUrl: options.runUrl } : {}),
            },
            FIELD_MANAGER,
            history,
          );
        }
        return resultOf(state!, true);
      }
      options.log(`the live Deployment is missing or not ready; deploying ${digest} again`);
    }
    const target: Colour = plan.kind === 'deploy' ? plan.target : plan.colour;
    const revision = plan.revision;
    const targetName = deploymentName(spec.app, target);

    // With an HPA, the colour starts at the live colour's current replica count (at least the HPA's
    // minimum), so the switch does not land on fewer pods than serve now; the HPA takes it from there.
    const colourSpec = spec.hpa ? { ...spec, replicas: await hpaStartReplicas(client, spec, state) } : spec;

    // A deploy that never goes live is recorded as failed (under the lock, as every record): each is an
    // attempt the KPIs' success rate counts. A failing record never hides the failure itself.
    const recordFailure = async () => {
      if (action !== 'deploy') return;
      const failed: HistoryEntry = {
        revision,
        digest,
        config,
        colour: target,
        action: 'deploy-failed',
        outcome: 'failed',
        at: new Date().toISOString(),
        ...(options.clock ? { seconds: elapsed(options.clock).seconds! } : {}),
        ...(options.runUrl ? { runUrl: options.runUrl } : {}),
      };
      await recordHistory(client, spec.namespace, spec.app, failed, FIELD_MANAGER, history).catch((error: unknown) =>
        options.log(
          `could not record the failed deploy in the history: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    };
    const appliedAt = Date.now();
    const applied = await phases
      .run('apply', async () => {
        // The configuration first (a pod started before its ConfigMap exists fails to start, then retries),
        // with the snapshot a rollback to this revision reads and the shared objects.
        await Promise.all([
          ...(spec.config ?? []).map((object) => client.apply(object, { fieldManager: FIELD_MANAGER })),
          writeSnapshot(client, spec, config, FIELD_MANAGER),
          applyShared(),
        ]);
        // The preview is parked (selecting no pod) while the colour rolls out; shown again in the preview
        // phase. Both are written at once: the controllers start the rollout milliseconds after the apply.
        const [, deployment] = await Promise.all([
          client.apply(parkedPreview(spec), { fieldManager: FIELD_MANAGER }),
          client.apply<KubeObject & DeploymentLike>(renderDeployment(colourSpec, target, revision, config), {
            fieldManager: FIELD_MANAGER,
          }),
          ...renderColourObjects(spec, target).map((object) => client.apply(object, { fieldManager: FIELD_MANAGER })),
        ]);
        return deployment;
      })
      .catch(async (error: unknown) => {
        await recordFailure();
        throw error;
      });
    // The preview selects the colour being brought up: after the rollout, or when this run fails.
    const [, previewOfTarget] = renderServices(spec, target === 'blue' ? 'green' : 'blue', {});
    const showPreview = () => client.apply(previewOfTarget, { fieldManager: FIELD_MANAGER });
    let previewShown = false;
    let hookResults: HookResult[] | undefined;
    try {
      await phases.run('rollout', async () => {
        // The apply answers with the status as it was: a failed release's timed-out condition, maybe.
        const earlier = exceededDeadline(applied);
        const stateOf = (d: DeploymentLike) =>
          rolloutState(d, earlier !== undefined ? { earlierDeadline: earlier } : {});
        let last = stateOf(applied);
        let loggedAt = 0;
        const timeoutMs = (spec.progressDeadlineSeconds + 30) * 1000;
        await client.watchObject<KubeObject & DeploymentLike>(
          'apps/v1',
          'Deployment',
          spec.namespace,
          targetName,
          undefined,
          (_type, deployment) => {
            const next = stateOf(deployment);
            // The status changes with every few pods at scale: progress is logged once a second at most.
            if (next.message !== last.message && (next.phase !== 'waiting' || Date.now() - loggedAt >= 1000)) {
              options.log(`${targetName}: ${next.message}`);
              loggedAt = Date.now();
            }
            last = next;
            return next.phase !== 'waiting';
          },
          { timeoutMs },
        );
        if (last.phase !== 'done') {
          const why = await podsReport(client, spec.namespace, colourSelector(spec.app, target));
          if (last.phase === 'failed')
            throw new PhaseError(
              'rollout',
              `${targetName} ${last.message}; live traffic stays on ${state?.liveColour ?? 'nothing (first deploy)'}${why}`,
              'fix what the pods show (the image, its start, its readiness probe), or raise progress-deadline',
            );
          throw new PhaseError(
            'rollout',
            `${targetName} did not finish rolling out in ${Math.round(timeoutMs / 1000)} s (${last.message}); live traffic stays on ${state?.liveColour ?? 'nothing'}${why}`,
            why
              ? 'fix what the pods show (the image, its start, its readiness probe), or raise progress-deadline'
              : 'raise progress-deadline',
          );
        }
      });

      await phases.run('preview', async () => {
        const preview = `${spec.app}-preview`;
        await showPreview();
        previewShown = true;
        // The colour is checked through the Service that will carry it: its pods must be its endpoints.
        // Endpoints follow ready pods within a second on a healthy control plane; one catching up (after an
        // API server restart, say) may take longer: wait what is left of the progress deadline, 30 s at least.
        const waitMs = Math.max(30_000, spec.progressDeadlineSeconds * 1000 - (Date.now() - appliedAt));
        if (!(await waitForReadyEndpoints(client, spec.namespace, preview, colourSpec.replicas, waitMs))) {
          const why = await podsReport(client, spec.namespace, colourSelector(spec.app, target));
          throw new PhaseError(
            'preview',
            `${preview} did not get ${colourSpec.replicas} ready endpoints within ${Math.round(waitMs / 1000)} s; live traffic stays on ${state?.liveColour ?? 'nothing'}${why}`,
            "check the pods' readiness and the Service selector",
          );
        }
        if (options.previewCheck) {
          try {
            await options.previewCheck(preview);
          } catch (error) {
            throw new PhaseError(
              'preview',
              `the new colour ${target} failed its check through ${preview}: ${(error as Error).message}; live traffic stays on ${state?.liveColour ?? 'nothing'}`,
              'fix the release; the old colour keeps serving',
            );
          }
        }
      });
      if (!options.skipHooks && spec.hooks?.some((h) => h.event === 'pre-switch')) {
        hookResults = await phases.run('hooks', async () => {
          const results = await runHooks(
            client,
            colourSpec,
            'pre-switch',
            { colour: target, revision, timeoutSeconds: options.hookTimeoutSeconds ?? 300 },
            options.log,
          );
          return hooksPassed(results, 'hooks', (failed, why) => [
            `the pre-switch hook Job ${why}; live traffic stays on ${state?.liveColour ?? 'nothing (first deploy)'}, ${target} stays up behind the preview`,
            failed.outcome === 'timed out'
              ? 'make the hook finish sooner, or raise hook-timeout; a re-run runs it again'
              : 'fix what the hook reports; a re-run of the release runs it again',
          ]);
        });
      }
    } catch (error) {
      // A failed run leaves the preview on the colour it brought up, as the rollback expects of it.
      if (!previewShown) await showPreview().catch(() => undefined);
      await recordFailure();
      throw error;
    }

    if (options.hold && plan.kind === 'deploy') {
      const hold = options.hold;
      const held = await phases.run('hold', async () => {
        const deployment = await client.get('apps/v1', 'Deployment', spec.namespace, targetName);
        const record: HeldRelease = {
          colour: target,
          revision,
          digest,
          config,
          template: templateHash(deployment),
          basedOn: state!.revision,
          heldAt: new Date().toISOString(),
          expiresAt: hold.expiresAt.toISOString(),
          ...elapsed(options.clock),
          ...(options.runUrl ? { runUrl: options.runUrl } : {}),
          ...(hold.githubDeployment !== undefined ? { githubDeployment: hold.githubDeployment } : {}),
        };
        assertLockHeld(lease, spec.app, 'hold');
        await client.apply(withHeld(previewOfTarget, record), { fieldManager: FIELD_MANAGER });
        return record;
      });
      options.log(
        `held for promotion until ${held.expiresAt}: ${target} (revision ${revision}) is warm behind ${spec.app}-preview; live traffic stays on ${state!.liveColour}`,
      );
      return { ...resultOf(state!, false), held, ...(hookResults ? { hooks: hookResults } : {}) };
    }

    const next: LiveState =
      plan.kind === 'deploy'
        ? switchedState(plan, digest, config)
        : { ...state!, liveDigest: digest, liveConfig: config };
    const [liveService, warmPreview] = renderServices(
      spec,
      target,
      stateAnnotations(next, {
        'updated-at': new Date().toISOString(),
        ...(options.runUrl ? { 'run-url': options.runUrl } : {}),
      }),
    );
    await phases.run('switch', () => {
      assertLockHeld(lease, spec.app, 'switch');
      return client.apply(liveService, { fieldManager: FIELD_MANAGER });
    });
    // After the switch the preview shows the colour kept warm for rollback; independent of the history
    // record, so both are written at once, with the prune of configuration no revision kept uses.
    const entry: HistoryEntry = {
      revision: next.revision,
      digest,
      config,
      colour: target,
      action,
      outcome: 'live',
      at: new Date().toISOString(),
      ...(options.runUrl ? { runUrl: options.runUrl } : {}),
      // A rollback's run was not started by a commit: its lead time is no release's.
      ...(action === 'rollback'
        ? { ...(options.clock ? { seconds: elapsed(options.clock).seconds! } : {}), ...options.rollbackOf }
        : elapsed(options.clock)),
    };
    const [, , pruned] = await phases.run('record', () =>
      Promise.all([
        client.apply(warmPreview, { fieldManager: FIELD_MANAGER }),
        recordHistory(client, spec.namespace, spec.app, entry, FIELD_MANAGER, history),
        pruneConfig(client, spec, appendHistory(history, entry)).catch((error: unknown): PruneResult => {
          options.log(`could not prune old configuration: ${error instanceof Error ? error.message : String(error)}`);
          return { deleted: [], skipped: ['all: it failed'] };
        }),
      ]),
    );
    if (pruned.deleted.length) options.log(`pruned configuration no kept revision uses: ${pruned.deleted.join(', ')}`);
    // A Role without rights on Secrets is what an app without Secrets is given: that is no news.
    const usesSecrets = (spec.config ?? []).some((o) => o.kind === 'Secret');
    const unpruned = pruned.skipped.filter((line) => usesSecrets || !line.startsWith('Secret'));
    if (unpruned.length)
      options.log(
        `old configuration not pruned (${unpruned.join('; ')}): grant list and delete of configmaps (rbac.yaml) and secrets (rbac-manifests.yaml)`,
      );
    return {
      ...resultOf(next, false),
      pruned,
      ...(hookResults ? { hooks: hookResults } : {}),
      ...(plan.kind === 'deploy' && plan.change ? { change: plan.change } : {}),
    };
  } finally {
    if (!options.heldLease)
      await lease
        .release()
        .catch((error: unknown) =>
          options.log(`could not release the lock: ${error instanceof KubeApiError ? error.message : String(error)}`),
        );
  }
}

/** The replicas a colour with an HPA starts at: the live colour's current count, at least the HPA's minimum. */
async function hpaStartReplicas(client: KubeApi, spec: AppSpec, state: LiveState | undefined): Promise<number> {
  const minReplicas = (spec.hpa?.spec as { minReplicas?: number } | undefined)?.minReplicas ?? 1;
  if (!state) return Math.max(minReplicas, spec.replicas);
  const live = await client.get<KubeObject & { spec?: { replicas?: number } }>(
    'apps/v1',
    'Deployment',
    spec.namespace,
    deploymentName(spec.app, state.liveColour),
  );
  return Math.max(minReplicas, live?.spec?.replicas ?? spec.replicas);
}

function resultOf(state: LiveState, noop: boolean): DeployResult {
  return {
    noop,
    liveColour: state.liveColour,
    revision: state.revision,
    digest: state.liveDigest,
    ...(state.liveConfig ? { config: state.liveConfig } : {}),
    ...(state.previousColour ? { previousColour: state.previousColour } : {}),
    ...(state.previousDigest ? { previousDigest: state.previousDigest } : {}),
  };
}

interface EndpointSliceList {
  metadata: { resourceVersion?: string };
  items: (KubeObject & { endpoints?: { conditions?: { ready?: boolean } }[] })[];
}

const readyIn = (slice: { endpoints?: { conditions?: { ready?: boolean } }[] }) =>
  (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length;

/** Ready endpoints behind a Service now (the zero-downtime sampler reads this). */
export async function readyEndpoints(client: KubeApi, namespace: string, service: string): Promise<number> {
  const list = await client.request<EndpointSliceList>(
    'GET',
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`,
  );
  return list.items.reduce((sum, slice) => sum + readyIn(slice), 0);
}

/** Waits, by watch, until a Service has at least `count` ready endpoints; false on timeout. */
export async function waitForReadyEndpoints(
  client: KubeApi,
  namespace: string,
  service: string,
  count: number,
  timeoutMs: number,
): Promise<boolean> {
  const selector = `kubernetes.io/service-name=${service}`;
  const list = await client.request<EndpointSliceList>(
    'GET',
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(selector)}`,
  );
  const ready = new Map(list.items.map((slice) => [slice.metadata.name, readyIn(slice)]));
  const total = () => [...ready.values()].reduce((a, b) => a + b, 0);
  if (total() >= count) return true;
  return client.watch<KubeObject & { endpoints?: { conditions?: { ready?: boolean } }[] }>(
    'discovery.k8s.io/v1',
    'EndpointSlice',
    namespace,
    { labelSelector: selector },
    list.metadata.resourceVersion,
    (type, slice) => {
      if (type === 'DELETED') ready.delete(slice.metadata.name);
      else ready.set(slice.metadata.name, readyIn(slice));
      return total() >= count;
    },
    { timeoutMs },
  );
}
