import { PhaseError, type Phases } from '@deploy-suite/action-kit';
import { assertLockHeld, lockApp, type LockOptions } from './app-lock.js';
import {
  DIGEST_PATTERN,
  colourSelector,
  deploymentConfig,
  deploymentDigest,
  deploymentName,
  digestOf,
  liveSide,
  podImages,
  switchedTo,
  otherColour,
  readLiveState,
  stateAnnotations,
  type AppSpec,
  type Colour,
  type LiveState,
} from './bluegreen.js';
import { KubeApiError, type KubeApi, type KubeObject } from './client.js';
import { bluegreenDeploy, waitForReadyEndpoints } from './deploy.js';
import { elapsed, historyName, putLive, readHistory, recordHistory, type ReleaseClock } from './history.js';
import { exceededDeadline, rolloutState, type DeploymentLike } from './rollout.js';
import { FIELD_MANAGER, ROLLBACK_MANAGER, SCALE_MANAGER } from './ownership.js';
import { specOfConfig } from './app-config.js';
import { hooksPassed, runHooks, type HookResult } from './hooks.js';

export type RollbackTarget =
  { kind: 'previous' } | { kind: 'revision'; revision: number } | { kind: 'digest'; digest: string };

export interface RollbackOptions extends LockOptions {
  runUrl?: string;
  /** How long a scaled-down colour may take to come back (scale up, rollout, ready endpoints). */
  readyTimeoutMs: number;
  /** Only roll back if this digest is still live (an automatic rollback must not undo a newer deploy). */
  expectLiveDigest?: string;
  /**
   * The signature gate: given every image of the pod spec that would go live (the app's image first),
   * throws to refuse them. Called before anything changes; unset: images are not checked.
   */
  verifyImages?: (images: string[]) => Promise<void>;
  /** How long each post-rollback hook Job may run (default 300 s). */
  hookTimeoutSeconds?: number;
  /** The run's start: the history records the rollback's seconds to the switch back by it. */
  clock?: ReleaseClock;
  /** Who asked for the rollback (the history's trigger): the analysis, or a person (rollback-to). */
  trigger?: 'analysis' | 'manual';
}

export interface RollbackResult {
  /** Nothing to do: the target already serves. */
  noop: boolean;
  liveColour: Colour;
  liveDigest: string;
  revision: number;
  fromColour?: Colour;
  fromDigest?: string;
  /** How the target came back: it was warm, it was scaled up first, or it had to be deployed again. */
  how: 'switch' | 'scaled-up' | 'deployed' | 'none';
  /** When the live selector pointed at the target (epoch ms), for the rollback duration. */
  switchedAt?: number;
  /** The post-rollback hooks of the revision rolled back to, when it has any. */
  hooks?: HookResult[];
}

type Deployment = KubeObject &
  DeploymentLike & {
    spec?: {
      replicas?: number;
      template?: { spec?: { containers?: { image?: string; ports?: { containerPort?: number }[] }[] } };
    };
  };

/**
 * Puts a former release back on live traffic, under the app's lock: the previous colour (a selector
 * switch when it is still warm, after scaling it up and waiting for readiness when it was scaled down),
 * a named revision or digest from history (the same, when a colour still runs it; otherwise deployed to
 * the idle colour the way a deploy does, then switched). Recorded in the state and history.
 */
export async function rollback(
  client: KubeApi,
  app: { namespace: string; app: string },
  target: RollbackTarget,
  options: RollbackOptions,
  phases: Phases,
): Promise<RollbackResult> {
  const lease = await phases.run('lock', () => lockApp(client, app.namespace, app.app, options));
  try {
    const { state, liveService } = await phases.run('read', async () => {
      const liveService = await client.get('v1', 'Service', app.namespace, app.app);
      return { liveService, state: readLiveState(liveService) };
    });
    if (!state || !liveService)
      throw new PhaseError(
        'read',
        `${app.app} has no live release in ${app.namespace}`,
        'deploy it with bluegreen-deploy first',
      );
    if (options.expectLiveDigest && state.liveDigest !== options.expectLiveDigest) {
      throw new PhaseError(
        'read',
        `${state.liveDigest} is live now, not ${options.expectLiveDigest}: a newer deploy or rollback happened since`,
        'nothing was rolled back; check the app before rolling back by hand',
      );
    }
    // A revision is its digest and its configuration; a digest named alone takes whichever configuration runs it.
    const { digest, config } = await resolveTarget(client, app, state, target);
    const matches = (d: string | undefined, c: string | undefined) => d === digest && (!config || c === config);
    if (matches(state.liveDigest, state.liveConfig)) {
      options.log(`${digest}${config ? ` with configuration ${config}` : ''} is already live on ${state.liveColour}`);
      return { noop: true, liveColour: state.liveColour, liveDigest: digest, revision: state.revision, how: 'none' };
    }
    const idle = otherColour(state.liveColour);
    const idleName = deploymentName(app.app, idle);
    const liveName = deploymentName(app.app, state.liveColour);
    const idleDeployment = await client.get<Deployment>('apps/v1', 'Deployment', app.namespace, idleName);
    const liveDeployment = await client.get<Deployment>('apps/v1', 'Deployment', app.namespace, liveName);
    // The idle colour counts as running the target only if its pod spec does, not just its annotation.
    const idleImages = podImages(idleDeployment);
    const onIdle =
      matches(deploymentDigest(idleDeployment), deploymentConfig(idleDeployment)) &&
      digestOf(idleImages[0] ?? '') === digest;

    if (onIdle) {
      if (options.verifyImages) await phases.run('verify', () => options.verifyImages!(idleImages));
    } else {
      // No colour runs it any more: deploy it to the idle colour with the configuration it ran (its
      // snapshot), or, without one, the live pod spec, ports and replicas; then switch.
      options.log(`${digest} runs on no colour; deploying it to ${idle}`);
      const image = liveDeployment?.spec?.template?.spec?.containers?.[0]?.image ?? '';
      const repository = image.includes('@') ? image.slice(0, image.indexOf('@')) : image.replace(/:[^:/]+$/, '');
      if (!repository || !liveDeployment)
        throw new PhaseError(
          'read',
          `cannot tell the image repository from ${liveName}`,
          'roll back with bluegreen-deploy and the full image reference',
        );
      if (options.verifyImages) {
        const images = [`${repository}@${digest}`, ...podImages(liveDeployment).slice(1)];
        await phases.run('verify', () => options.verifyImages!(images));
      }
      const recorded = config ? await specOfConfig(client, app, config, `${repository}@${digest}`) : undefined;
      if (config && !recorded)
        options.log(`the configuration ${config} of that revision is pruned; the live pod spec is used with the image`);
      const spec: AppSpec = recorded
        ? { ...recorded, progressDeadlineSeconds: Math.ceil(options.readyTimeoutMs / 1000) }
        : {
            app: app.app,
            namespace: app.namespace,
            replicas: liveDeployment.spec?.replicas ?? 1,
            image: `${repository}@${digest}`,
            containerPort: liveDeployment.spec?.template?.spec?.containers?.[0]?.ports?.[0]?.containerPort ?? 8080,
            progressDeadlineSeconds: Math.ceil(options.readyTimeoutMs / 1000),
            deploymentTemplate: liveDeployment,
            serviceTemplate: liveService,
          };
      const deployed = await bluegreenDeploy(
        client,
        spec,
        {
          ...options,
          heldLease: lease,
          historyAction: 'rollback',
          skipHooks: true,
          rollbackOf: { fromRevision: state.revision, trigger: options.trigger ?? 'manual' },
        },
        phases,
      );
      const hooks = await postRollbackHooks(client, app, deployed, spec.image, options, phases);
      return {
        ...(hooks ? { hooks } : {}),
        noop: false,
        liveColour: deployed.liveColour,
        liveDigest: deployed.digest,
        revision: deployed.revision,
        fromColour: state.liveColour,
        fromDigest: state.liveDigest,
        how: 'deployed',
        switchedAt: Date.now(),
      };
    }

    const replicas = liveDeployment?.spec?.replicas ?? idleDeployment?.spec?.replicas ?? 1;
    let how: RollbackResult['how'] = 'switch';
    // The preview selects the idle colour: a deploy killed mid-rollout leaves it parked (selecting nothing).
    await client
      .mergePatch(
        'v1',
        'Service',
        app.namespace,
        `${app.app}-preview`,
        { spec: { selector: colourSelector(app.app, idle) } },
        { fieldManager: ROLLBACK_MANAGER },
      )
      .catch((error: unknown) => {
        if (!(error instanceof KubeApiError && error.status === 404)) throw error; // no preview: the readiness wait below says so
      });
    if (!(await isServing(client, app, idle, idleDeployment!, replicas))) {
      how = 'scaled-up';
      await phases.run('scale-up', async () => {
        options.log(
          `${idleName} is not serving (${idleDeployment!.spec?.replicas ?? 0} replicas); scaling it to ${replicas} and waiting for it`,
        );
        if ((idleDeployment!.spec?.replicas ?? 0) < replicas) {
          await client.mergePatch(
            'apps/v1',
            'Deployment',
            app.namespace,
            idleName,
            { spec: { replicas } },
            { fieldManager: SCALE_MANAGER },
          );
        }
        const deadline = Date.now() + options.readyTimeoutMs;
        const earlier = exceededDeadline(idleDeployment);
        await client.watchObject<Deployment>(
          'apps/v1',
          'Deployment',
          app.namespace,
          idleName,
          undefined,
          (_t, d) => rolloutState(d, earlier !== undefined ? { earlierDeadline: earlier } : {}).phase !== 'waiting',
          { timeoutMs: options.readyTimeoutMs },
        );
        // The preview Service selects the idle colour: its endpoints are the ones the switch will hand traffic to.
        if (
          !(await waitForReadyEndpoints(
            client,
            app.namespace,
            `${app.app}-preview`,
            replicas,
            Math.max(1000, deadline - Date.now()),
          ))
        ) {
          throw new PhaseError(
            'scale-up',
            `${idleName} did not get ${replicas} ready endpoints within ${Math.round(options.readyTimeoutMs / 1000)} s; live traffic stays on ${state.liveColour}`,
            'look at the pods of the old colour, or raise the ready timeout',
          );
        }
      });
    }

    const idleConfig = deploymentConfig(idleDeployment);
    const next = switchedTo(
      { colour: idle, digest, revision: state.revision + 1, ...(idleConfig ? { config: idleConfig } : {}) },
      liveSide(state),
    );
    const switchedAt = await phases.run('switch', async () => {
      assertLockHeld(lease, app.app, 'switch');
      const annotations = stateAnnotations(next, {
        'updated-at': new Date().toISOString(),
        ...(options.runUrl ? { 'run-url': options.runUrl } : {}),
      });
      await client.mergePatch(
        'v1',
        'Service',
        app.namespace,
        app.app,
        { metadata: { annotations }, spec: { selector: colourSelector(app.app, idle) } },
        { fieldManager: ROLLBACK_MANAGER },
      );
      const at = Date.now();
      // The preview now shows the colour rolled away from, still warm.
      await client.mergePatch(
        'v1',
        'Service',
        app.namespace,
        `${app.app}-preview`,
        { spec: { selector: colourSelector(app.app, state.liveColour) } },
        { fieldManager: ROLLBACK_MANAGER },
      );
      return at;
    });
    await phases.run('record', () =>
      recordHistory(
        client,
        app.namespace,
        app.app,
        {
          revision: next.revision,
          digest,
          ...(idleConfig ? { config: idleConfig } : {}),
          colour: idle,
          action: 'rollback',
          outcome: 'live',
          at: new Date().toISOString(),
          ...(options.runUrl ? { runUrl: options.runUrl } : {}),
          ...(options.clock ? { seconds: elapsed(options.clock, switchedAt).seconds! } : {}),
          fromRevision: state.revision,
          trigger: options.trigger ?? 'manual',
        },
        FIELD_MANAGER,
      ),
    );
    const hooks = await postRollbackHooks(
      client,
      app,
      { liveColour: idle, digest, revision: next.revision, ...(idleConfig ? { config: idleConfig } : {}) },
      idleImages[0] ?? '',
      options,
      phases,
    );
    return {
      noop: false,
      liveColour: idle,
      liveDigest: digest,
      revision: next.revision,
      fromColour: state.liveColour,
      fromDigest: state.liveDigest,
      how,
      switchedAt,
      ...(hooks ? { hooks } : {}),
    };
  } finally {
    await lease.release().catch((error: unknown) => options.log(`could not release the lock: ${String(error)}`));
  }
}

/** The digest a target names; a revision is looked up in the cluster's history. */
async function resolveTarget(
  client: KubeApi,
  app: { namespace: string; app: string },
  state: LiveState,
  target: RollbackTarget,
): Promise<{ digest: string; config?: string }> {
  if (target.kind === 'digest') return { digest: checkedDigest(target.digest, 'rollback-to') };
  if (target.kind === 'previous') {
    if (!state.previousDigest)
      throw new PhaseError(
        'read',
        `${app.app} has no previous release to roll back to (revision ${state.revision} is the first)`,
        'name a revision or digest, or deploy the release you want',
      );
    return {
      digest: checkedDigest(
        state.previousDigest,
        `the previous-digest annotation of Service ${app.namespace}/${app.app}`,
      ),
      ...(state.previousConfig
        ? { config: checkedConfig(state.previousConfig, 'the previous-config annotation') }
        : {}),
    };
  }
  const history = await readHistory(client, app.namespace, app.app);
  const entry = history.find((h) => h.revision === target.revision && putLive(h));
  if (!entry) {
    const known = [...new Set(history.filter(putLive).map((h) => h.revision))].join(', ');
    throw new PhaseError(
      'read',
      `revision ${target.revision} is not in ${app.app}'s history (it has ${known || 'none'})`,
      'name a revision from the history, or the digest itself',
    );
  }
  const where = `revision ${entry.revision} of ConfigMap ${app.namespace}/${historyName(app.app)}`;
  return {
    digest: checkedDigest(entry.digest, where),
    ...(entry.config ? { config: checkedConfig(entry.config, where) } : {}),
  };
}

/** A configuration hash read from the cluster is used only in the form the suite writes (it names objects). */
function checkedConfig(config: unknown, where: string): string {
  if (typeof config === 'string' && /^[a-f0-9]{10}$/.test(config)) return config;
  throw new PhaseError(
    'read',
    `${where} holds the configuration '${String(config).slice(0, 100)}', not one the suite writes (10 hex digits): it was edited outside the suite. Nothing was rolled back`,
    'find out who changed it; roll back to a digest you name, after checking it',
  );
}

/** A digest read from the cluster (or given) is used only in the exact form the suite writes. */
function checkedDigest(digest: unknown, where: string): string {
  if (typeof digest === 'string' && DIGEST_PATTERN.test(digest)) return digest;
  throw new PhaseError(
    'read',
    `${where} holds '${String(digest).slice(0, 100)}', not a digest (sha256:<64 hex digits>): it was edited outside the suite. Nothing was rolled back`,
    'find out who changed it; roll back to a digest you name, after checking it',
  );
}

/** Whether a colour can take traffic now: its rollout done at the live replica count, with ready endpoints. */
async function isServing(
  client: KubeApi,
  app: { namespace: string; app: string },
  colour: Colour,
  deployment: Deployment,
  replicas: number,
): Promise<boolean> {
  if ((deployment.spec?.replicas ?? 0) < replicas || rolloutState(deployment).phase !== 'done') return false;
  return waitForReadyEndpoints(client, app.namespace, `${app.app}-preview`, replicas, 1000);
}

/**
 * The post-rollback hooks of the configuration now live (its snapshot), run under the lock after the
 * switch. The rollback stands whatever they do: a hook that fails fails the run, saying so.
 */
async function postRollbackHooks(
  client: KubeApi,
  app: { namespace: string; app: string },
  live: { liveColour: Colour; digest: string; revision: number; config?: string },
  image: string,
  options: RollbackOptions,
  phases: Phases,
): Promise<HookResult[] | undefined> {
  if (!live.config) return undefined;
  const spec = await specOfConfig(client, app, live.config, image);
  if (!spec?.hooks?.some((h) => h.event === 'post-rollback')) return undefined;
  return phases.run('post-rollback', async () => {
    const results = await runHooks(
      client,
      spec,
      'post-rollback',
      { colour: live.liveColour, revision: live.revision, timeoutSeconds: options.hookTimeoutSeconds ?? 300 },
      options.log,
    );
    return hooksPassed(results, 'post-rollback', (_failed, why) => [
      `rolled back: ${live.liveColour} serves ${live.digest} (revision ${live.revision}); then the post-rollback hook Job ${why}`,
      'the rollback stands; fix what the hook reports and run it again (kubectl create job --from)',
    ]);
  });
}
