/**
 * Ending a held release: promote it (switch live traffic to it, if what is on preview is still what was
 * checked), or abort it (scale its colour down, live untouched), under the app's lock.
 */
import { PhaseError, type Phases } from '@deploy-suite/action-kit';
import { assertLockHeld, lockApp, type LockOptions } from './app-lock.js';
import {
  colourSelector,
  deploymentConfig,
  deploymentDigest,
  deploymentName,
  deploymentRevision,
  podImages,
  readLiveState,
  stateAnnotations,
  type Colour,
} from './bluegreen.js';
import type { KubeApi, KubeObject } from './client.js';
import { waitForReadyEndpoints } from './deploy.js';
import { recordHistory } from './history.js';
import { pruneConfig } from './app-config.js';
import {
  HELD_ANNOTATION,
  HoldRecordError,
  judgePromotion,
  promotedState,
  readHeld,
  templateHash,
  type HeldRelease,
} from './hold.js';
import { FIELD_MANAGER, SCALE_MANAGER } from './ownership.js';
import { rolloutState, type DeploymentLike } from './rollout.js';

/** The manager of a promote's merge patches (as a rollback's: the next deploy's apply takes them over). */
export const PROMOTE_MANAGER = 'deploy-suite-promote';

export interface PromoteOptions extends LockOptions {
  runUrl?: string;
  /** How long the held colour may take to show its ready endpoints again. */
  readyTimeoutMs: number;
  /** Promote only this image digest (what the person pressing promote looked at). */
  expectDigest?: string;
  /** The signature gate, given every image of the held pod spec; throws to refuse them. */
  verifyImages?: (images: string[]) => Promise<void>;
  /** The preview checks, run again through the preview Service right before the switch; throws to refuse. */
  previewCheck?: (previewService: string) => Promise<void>;
  now?: () => Date;
}

export interface PromoteResult {
  held: HeldRelease;
  liveColour: Colour;
  previousColour: Colour;
  previousDigest: string;
}

export interface AbortResult {
  /** The hold that was ended, or undefined when there was none (or, only-expired, it had not expired). */
  aborted?: HeldRelease;
  /** A hold left in place: not expired yet. */
  kept?: HeldRelease;
}

/** A promote that found its hold expired: aborted (its colour scaled down), live untouched. */
export class HoldExpiredError extends PhaseError {
  constructor(
    readonly held: HeldRelease,
    message: string,
    fix: string,
  ) {
    super('promote', message, fix);
  }
}

type Deployment = KubeObject & DeploymentLike & { spec?: { replicas?: number } };

const app$ = (app: { namespace: string; app: string }) => `${app.namespace}/${app.app}`;

async function readHold(client: KubeApi, app: { namespace: string; app: string }) {
  const [liveService, preview] = await Promise.all([
    client.get('v1', 'Service', app.namespace, app.app),
    client.get<KubeObject & { spec?: { selector?: Record<string, string> } }>(
      'v1',
      'Service',
      app.namespace,
      `${app.app}-preview`,
    ),
  ]);
  let held: HeldRelease | undefined;
  try {
    held = readHeld(preview);
  } catch (error) {
    if (!(error instanceof HoldRecordError)) throw error;
    throw new PhaseError(
      'read',
      `Service ${app.namespace}/${app.app}-preview: ${error.message}: it was edited outside the suite. Nothing was changed`,
      'deploy the release again with promote: false (a deploy rewrites the record)',
    );
  }
  const deployment = held
    ? await client.get<Deployment>('apps/v1', 'Deployment', app.namespace, deploymentName(app.app, held.colour))
    : undefined;
  return { live: readLiveState(liveService), preview, held, deployment };
}

/** Scales the held colour down and ends the hold; live traffic is not touched. */
async function endHold(
  client: KubeApi,
  app: { namespace: string; app: string },
  held: HeldRelease,
  deployment: Deployment | undefined,
): Promise<void> {
  // Only the held release is scaled down: a Deployment that runs something else now is not ours to stop.
  if (deployment && deploymentDigest(deployment) === held.digest && (deployment.spec?.replicas ?? 0) > 0)
    await client.mergePatch(
      'apps/v1',
      'Deployment',
      app.namespace,
      deployment.metadata.name,
      { spec: { replicas: 0 } },
      { fieldManager: SCALE_MANAGER },
    );
  await client.mergePatch(
    'v1',
    'Service',
    app.namespace,
    `${app.app}-preview`,
    { metadata: { annotations: { [HELD_ANNOTATION]: null } } },
    { fieldManager: PROMOTE_MANAGER },
  );
}

const heldLine = (held: HeldRelease) =>
  `revision ${held.revision} (${held.digest}${held.config ? `, configuration ${held.config}` : ''}) on ${held.colour}`;

/**
 * Promotes the held release: under the lock, checks that live traffic has not moved on and that the
 * held colour still runs exactly what was checked (its image, configuration, revision and pod template),
 * that its pods are ready, passes the signature gate and the preview checks again, then switches.
 * An expired hold is aborted instead (its colour scaled down) and the run fails saying so.
 */
export async function promoteHeld(
  client: KubeApi,
  app: { namespace: string; app: string },
  options: PromoteOptions,
  phases: Phases,
): Promise<PromoteResult> {
  const lease = await phases.run('lock', () => lockApp(client, app.namespace, app.app, options));
  try {
    const { live, preview, held, deployment } = await phases.run('read', () => readHold(client, app));
    if (!held)
      throw new PhaseError(
        'read',
        `nothing is held for promotion in ${app$(app)}${live ? ` (revision ${live.revision} is live on ${live.liveColour})` : ''}: no deploy with promote: false is waiting, or it was promoted, aborted or replaced by a later deploy`,
        'deploy the release with promote: false, check it on the preview, then promote',
      );
    const verdict = judgePromotion(
      held,
      {
        ...(live ? { live } : {}),
        ...(preview?.spec?.selector?.['deploy-suite.dev/colour']
          ? { previewColour: preview.spec.selector['deploy-suite.dev/colour'] }
          : {}),
        ...(deployment
          ? {
              deployment: {
                template: templateHash(deployment),
                ...(deploymentRevision(deployment) ? { revision: deploymentRevision(deployment)! } : {}),
                ...(deploymentDigest(deployment) ? { digest: deploymentDigest(deployment)! } : {}),
                ...(deploymentConfig(deployment) ? { config: deploymentConfig(deployment)! } : {}),
              },
            }
          : {}),
      },
      (options.now ?? (() => new Date()))(),
      options.expectDigest ? { digest: options.expectDigest } : {},
    );
    if (verdict.kind === 'refused')
      throw new PhaseError(
        'read',
        `what is on the preview is no longer the release held for promotion (${heldLine(held)}): ${verdict.reasons.join('; ')}. Nothing was promoted; live traffic stays on ${live?.liveColour ?? 'nothing'}`,
        'deploy the release again with promote: false, check it on the preview, then promote',
      );
    if (verdict.kind === 'expired') {
      await phases.run('abort', () => endHold(client, app, held, deployment));
      throw new HoldExpiredError(
        held,
        `the hold of ${heldLine(held)} expired at ${held.expiresAt} (hold-timeout): it was aborted, ${held.colour} scaled down to 0; live traffic stays on ${live!.liveColour}`,
        'deploy the release again with promote: false and promote it within hold-timeout, or raise hold-timeout',
      );
    }
    const images = podImages(deployment);
    if (options.verifyImages) await phases.run('verify', () => options.verifyImages!(images));
    await phases.run('preview', async () => {
      const replicas = Math.max(1, deployment!.spec?.replicas ?? 1);
      const ready =
        rolloutState(deployment!).phase === 'done' &&
        (await waitForReadyEndpoints(client, app.namespace, `${app.app}-preview`, replicas, options.readyTimeoutMs));
      if (!ready)
        throw new PhaseError(
          'preview',
          `${deployment!.metadata.name} does not serve ${replicas} ready pods behind ${app.app}-preview now (${rolloutState(deployment!).message}); nothing was promoted, live traffic stays on ${live!.liveColour}`,
          "look at the held colour's pods; deploy again with promote: false once they are healthy",
        );
      if (options.previewCheck) {
        try {
          await options.previewCheck(`${app.app}-preview`);
        } catch (error) {
          throw new PhaseError(
            'preview',
            `the held ${held.colour} failed its check through ${app.app}-preview: ${(error as Error).message}; nothing was promoted, live traffic stays on ${live!.liveColour}`,
            'fix the release and deploy it again; the live colour keeps serving',
          );
        }
      }
    });
    const next = promotedState(held, live!);
    await phases.run('switch', () => {
      assertLockHeld(lease, app.app, 'switch');
      return client.mergePatch(
        'v1',
        'Service',
        app.namespace,
        app.app,
        {
          metadata: {
            annotations: stateAnnotations(next, {
              'updated-at': new Date().toISOString(),
              ...(options.runUrl ? { 'run-url': options.runUrl } : {}),
            }),
          },
          spec: { selector: colourSelector(app.app, held.colour) },
        },
        { fieldManager: PROMOTE_MANAGER },
      );
    });
    await phases.run('record', async () => {
      const [, history] = await Promise.all([
        // The preview shows the colour kept warm for rollback, and the hold is over.
        client.mergePatch(
          'v1',
          'Service',
          app.namespace,
          `${app.app}-preview`,
          {
            metadata: { annotations: { [HELD_ANNOTATION]: null } },
            spec: { selector: colourSelector(app.app, live!.liveColour) },
          },
          { fieldManager: PROMOTE_MANAGER },
        ),
        recordHistory(
          client,
          app.namespace,
          app.app,
          {
            revision: held.revision,
            digest: held.digest,
            ...(held.config ? { config: held.config } : {}),
            colour: held.colour,
            action: 'deploy',
            outcome: 'live',
            at: new Date().toISOString(),
            ...(options.runUrl ? { runUrl: options.runUrl } : {}),
            // The deploy's own time is the holding run's; its time to live includes the wait for the promote.
            ...(held.seconds !== undefined ? { seconds: held.seconds } : {}),
            ...(held.leadSeconds !== undefined
              ? { leadSeconds: Math.round(held.leadSeconds * 1000 + Date.now() - Date.parse(held.heldAt)) / 1000 }
              : {}),
          },
          FIELD_MANAGER,
        ),
      ]);
      await pruneConfig(client, app, history).catch((error: unknown) =>
        options.log(`could not prune old configuration: ${error instanceof Error ? error.message : String(error)}`),
      );
    });
    options.log(`promoted ${heldLine(held)}: live traffic moved from ${live!.liveColour}`);
    return { held, liveColour: held.colour, previousColour: live!.liveColour, previousDigest: live!.liveDigest };
  } finally {
    await lease.release().catch((error: unknown) => options.log(`could not release the lock: ${String(error)}`));
  }
}

/**
 * Aborts the held release (a person said no, or, onlyExpired, its hold-timeout passed): its colour is
 * scaled down and the hold ended; live traffic is not touched. No hold: nothing to do.
 */
export async function abortHeld(
  client: KubeApi,
  app: { namespace: string; app: string },
  options: LockOptions & { onlyExpired: boolean; now?: () => Date },
  phases: Phases,
): Promise<AbortResult> {
  const lease = await phases.run('lock', () => lockApp(client, app.namespace, app.app, options));
  try {
    const { held, deployment, live } = await phases.run('read', () => readHold(client, app));
    if (!held) {
      options.log(`nothing is held for promotion in ${app$(app)}`);
      return {};
    }
    const now = (options.now ?? (() => new Date()))();
    if (options.onlyExpired && now.getTime() < Date.parse(held.expiresAt)) {
      options.log(`${heldLine(held)} is held until ${held.expiresAt}: left as it is`);
      return { kept: held };
    }
    // A hold whose colour went live (edited by hand) is not a held release: live traffic is never stopped.
    if (live?.liveColour === held.colour)
      throw new PhaseError(
        'read',
        `${held.colour} is live now, so the hold on ${app.app}-preview is stale; nothing was scaled down`,
        `remove the ${HELD_ANNOTATION} annotation of Service ${app.namespace}/${app.app}-preview`,
      );
    await phases.run('abort', () => {
      assertLockHeld(lease, app.app, 'abort');
      return endHold(client, app, held, deployment);
    });
    options.log(
      `aborted ${heldLine(held)}: ${held.colour} scaled down to 0; live traffic stays on ${live?.liveColour ?? 'nothing'}`,
    );
    return { aborted: held };
  } finally {
    await lease.release().catch((error: unknown) => options.log(`could not release the lock: ${String(error)}`));
  }
}
