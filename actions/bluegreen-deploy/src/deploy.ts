/**
 * The deploy mode of bluegreen-deploy, once inputs are read and rights checked: the pod-security and
 * signature gates, a dry run or the deploy (held or switched), the previous colour's scale-down, the
 * outputs, the job summary and the GitHub deployment.
 */
import * as core from '@actions/core';
import {
  Phases,
  code,
  createDeployment,
  errorMessage,
  escapeHtml,
  githubFailureFix,
  setDeploymentStatus,
  writeSummary,
  type GitHubContext,
  noticeOf,
} from '@deploy-suite/action-kit';
import {
  bluegreenDeploy,
  checkPodSecurity,
  dryRunDeploy,
  podImages,
  podSecurityOutcome,
  scaleDownPrevious,
  type KubeClient,
  type LockOptions,
} from '@deploy-suite/kube';
import { signatureGate } from '@deploy-suite/supply-chain/inputs';
import type { BluegreenInputs } from './inputs.js';
import type { PreparedApp } from './app.js';
import { checkPreview } from './preview.js';

export async function runDeploy(
  client: KubeClient,
  inputs: BluegreenInputs,
  github: GitHubContext,
  app: PreparedApp,
  lockOptions: LockOptions,
  url: string,
): Promise<void> {
  const { spec, manifests } = app;
  const template = spec.deploymentTemplate;
  const phases = new Phases();
  let previewSummary: string | undefined;
  try {
    // Before the lock and before anything is applied: pods the standard refuses, and an image that fails
    // the signature policy, change nothing.
    const podSecurity =
      inputs.podSecurity === 'off'
        ? undefined
        : await phases.run('pod-security', async () => {
            const report = await checkPodSecurity(
              client,
              spec,
              inputs.podSecurity as 'restricted' | 'baseline',
              app.namespaceLabels,
              (m) => core.info(m),
            );
            const { warnings } = podSecurityOutcome(report, inputs.podSecurityAction, inputs.namespace);
            for (const line of warnings) core.warning(`${line} (pod-security: ${inputs.podSecurity})`);
            if (!warnings.length)
              core.info(
                `pod-security: every pod template meets ${inputs.podSecurity} (judged by ${report.judge === 'admission' ? "the namespace's PodSecurity admission" : "the suite's checks"})`,
              );
            return { report, warnings };
          });
    const gate = signatureGate(inputs.imagePolicy, 'Nothing was applied', (m) => core.info(m));
    const signers = gate
      ? await phases.run('verify', () => gate([inputs.image, ...podImages(template).slice(1)]))
      : undefined;
    if (inputs.dryRun) {
      const plan = await phases.run('dry-run', () => dryRunDeploy(client, spec, inputs.force));
      core.setOutput('revision', String(plan.revision));
      core.setOutput('timings', JSON.stringify(phases.toJSON()));
      const rows = plan.changes.map((c): [string, string] => [
        `${c.kind} ${c.name}`,
        c.change === 'update' ? `update<br>${c.fields.map((f) => code(f)).join('<br>')}` : c.change,
      ]);
      await writeSummary(
        `bluegreen-deploy dry run: ${inputs.app} → ${plan.target}, revision ${plan.revision}`,
        rows.length ? rows : [['(all objects)', `unchanged: ${escapeHtml(inputs.image)} is already live`]],
      );
      for (const c of plan.changes)
        core.info(`${c.change.padEnd(9)} ${c.kind} ${c.name}${c.fields.length ? `\n  ${c.fields.join('\n  ')}` : ''}`);
      return;
    }
    const record = inputs.environment ? await githubDeployment(github, inputs, url) : undefined;
    let result;
    try {
      result = await bluegreenDeploy(
        client,
        spec,
        {
          ...lockOptions,
          force: inputs.force,
          hookTimeoutSeconds: inputs.hookTimeoutSeconds,
          ...(inputs.promote
            ? {}
            : {
                hold: {
                  expiresAt: new Date(Date.now() + inputs.holdTimeoutSeconds * 1000),
                  ...(record ? { githubDeployment: record.id } : {}),
                },
              }),
          ...(inputs.previewCheck
            ? { previewCheck: async () => void (previewSummary = await checkPreview(inputs.previewCheck!)) }
            : {}),
          ...(url ? { runUrl: url } : {}),
          clock: releaseClock(github),
        },
        phases,
      );
    } catch (error) {
      await record?.status('failure', `failed: ${errorMessage(error)}`);
      throw error;
    }
    let scaledDown = 'kept warm';
    const { held } = result;
    if (
      inputs.scaleDownDelayMs !== undefined &&
      !held &&
      !result.noop &&
      result.previousColour &&
      result.previousDigest
    ) {
      const outcome = await phases.run('scale-down', () =>
        scaleDownPrevious(
          client,
          {
            namespace: inputs.namespace,
            app: inputs.app,
            liveColour: result.liveColour,
            previousColour: result.previousColour!,
            previousDigest: result.previousDigest!,
            revision: result.revision,
          },
          inputs.scaleDownDelayMs!,
          { ...lockOptions, ...(url ? { runUrl: url } : {}) },
        ),
      );
      scaledDown = outcome.scaledDown
        ? 'scaled down to 0 (a rollback scales it up first)'
        : `left as it is: ${outcome.reason}`;
      if (!outcome.scaledDown) core.info(`scale-down skipped: ${outcome.reason}`);
      core.setOutput('previous-scaled-down', String(outcome.scaledDown));
    } else {
      core.setOutput('previous-scaled-down', 'false');
    }
    // A held release's GitHub deployment stays in progress until the run that promotes or aborts it.
    if (held) await record?.status('in_progress', `held for promotion on ${held.colour} until ${held.expiresAt}`);
    else
      await record?.status(
        'success',
        result.noop ? `${result.digest} was already live` : `live on ${result.liveColour}, revision ${result.revision}`,
      );
    if (!result.noop)
      await inputs.notifier.notify({
        ...noticeOf('bluegreen-deploy', inputs, github),
        event: held ? 'held' : 'deployed',
        // A held release is not live: the notice names it, and what stays live beside it.
        ...(held
          ? { revision: held.revision, digest: held.digest, colour: held.colour, previousDigest: result.digest }
          : {
              revision: result.revision,
              digest: result.digest,
              colour: result.liveColour,
              ...(result.previousDigest ? { previousDigest: result.previousDigest } : {}),
            }),
        ...(held ? { reason: `held warm behind ${inputs.app}-preview until ${held.expiresAt}` } : {}),
      });
    core.setOutput('mode', 'deploy');
    core.setOutput('held', String(Boolean(held)));
    core.setOutput('held-colour', held?.colour ?? '');
    core.setOutput('held-revision', held ? String(held.revision) : '');
    core.setOutput('held-until', held?.expiresAt ?? '');
    core.setOutput('live-colour', result.liveColour);
    core.setOutput('previous-colour', result.previousColour ?? '');
    core.setOutput('revision', String(result.revision));
    core.setOutput('digest', result.digest);
    core.setOutput('previous-digest', result.previousDigest ?? '');
    core.setOutput('noop', String(result.noop));
    core.setOutput('config', result.config ?? '');
    core.setOutput('change', result.change ?? '');
    core.setOutput('timings', JSON.stringify(phases.toJSON()));
    core.setOutput('api-requests', String(client.requestCount));
    await writeSummary(
      `bluegreen-deploy: ${inputs.app} ${held ? `held on ${held.colour} for promotion` : result.noop ? 'unchanged' : `live on ${result.liveColour}`}`,
      [
        ...(held
          ? [
              [
                'Held for promotion',
                `${held.colour}, revision ${held.revision}: ${code(held.digest)}, warm behind ${inputs.app}-preview until ${escapeHtml(held.expiresAt)}; promote it with mode: promote (it is switched only if it is still what was checked), or abort it with mode: abort`,
              ] as [string, string],
            ]
          : []),
        ['Namespace', inputs.namespace],
        ['Live', `${result.liveColour}, revision ${result.revision}: ${code(result.digest)}`],
        [
          'Previous colour',
          result.previousColour
            ? `${result.previousColour}: ${code(result.previousDigest ?? '')}, ${scaledDown}`
            : '(none: first deploy)',
        ],
        [
          'Changed',
          result.noop
            ? 'nothing: this digest and configuration were already live'
            : `yes: ${result.change ?? 'image'}${result.config ? ` (configuration ${code(result.config)})` : ''}`,
        ],
        ...(manifests
          ? [
              [
                'Manifests',
                `${manifests.config.length} versioned ConfigMaps/Secrets, ${manifests.hpa ? 'an HPA' : 'no HPA'}, ${manifests.pdbs.length} PDBs per colour, ${manifests.shared.length} shared objects${result.pruned?.deleted.length ? `; pruned ${result.pruned.deleted.length} old` : ''}`,
              ] as [string, string],
            ]
          : []),
        [
          'Pod security',
          podSecurity
            ? `${inputs.podSecurity}, judged by ${podSecurity.report.judge === 'admission' ? "the namespace's PodSecurity admission (a dry run)" : "the suite's checks of the standard"}: ${podSecurity.warnings.length ? podSecurity.warnings.map((w) => escapeHtml(w)).join('<br>') : 'met'}`
            : 'not checked (pod-security: off)',
        ],
        [
          'Signature',
          signers
            ? `verified: ${signers.map((s) => escapeHtml(s)).join('<br>')}`
            : 'not checked (no verify-key or certificate identity given)',
        ],
        [
          'Preview checks',
          previewSummary ?? (result.noop ? 'none (nothing changed)' : 'ready endpoints only (no preview-url given)'),
        ],
        ...(result.hooks?.length
          ? [
              [
                'Pre-switch hooks',
                result.hooks
                  .map(
                    (h) =>
                      `${code(h.name)}: ${h.outcome}${h.outcome === 'complete' ? ` in ${h.seconds.toFixed(1)} s` : ''}${h.logs ? `<br><pre>${escapeHtml(h.logs)}</pre>` : ''}`,
                  )
                  .join('<br>'),
              ] as [string, string],
            ]
          : []),
        ['Kubernetes API requests', String(client.requestCount)],
        ['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')],
      ],
    );
  } finally {
    client.close();
  }
}

/**
 * The GitHub deployment of this run, when an environment is named. GitHub being unreachable or the
 * token lacking deployments: write never stops the deploy itself: it warns.
 */
async function githubDeployment(github: GitHubContext, inputs: BluegreenInputs, logUrl: string) {
  const api = { apiUrl: github.apiUrl, token: inputs.githubToken };
  const pr = (github.payload.pull_request as { head?: { sha?: string } } | undefined)?.head?.sha;
  try {
    const { id } = await createDeployment(api, github.repository, {
      ref: pr || github.sha,
      environment: inputs.environment,
      description: `${inputs.app} ${inputs.image.slice(inputs.image.indexOf('@') + 1, inputs.image.indexOf('@') + 20)}…`,
      payload: { app: inputs.app, namespace: inputs.namespace, image: inputs.image },
    });
    const status = async (state: 'in_progress' | 'success' | 'failure', description: string) => {
      await setDeploymentStatus(api, github.repository, id, state, {
        description,
        logUrl,
        ...(state === 'success' && inputs.environmentUrl ? { environmentUrl: inputs.environmentUrl } : {}),
      }).catch((error: unknown) =>
        core.warning(`could not set the GitHub deployment ${id} to ${state}: ${errorMessage(error)}`),
      );
    };
    await status('in_progress', `deploying ${inputs.app}`);
    return { id, status };
  } catch (error) {
    core.warning(
      `could not create a GitHub deployment for environment ${inputs.environment} (${errorMessage(error)}); the deploy goes on. Fix: ${githubFailureFix(error, github.apiUrl)}`,
    );
    return undefined;
  }
}

/**
 * The history's clock: this process's start (Node's time origin: what the user waits for includes the
 * bundle's load) and, for a push, its head commit's time (the lead time for changes).
 */
function releaseClock(github: GitHubContext): { startedAt: number; committedAt?: string } {
  const commit = (github.payload.head_commit as { timestamp?: unknown } | undefined)?.timestamp;
  return { startedAt: performance.timeOrigin, ...(typeof commit === 'string' ? { committedAt: commit } : {}) };
}
