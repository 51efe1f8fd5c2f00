/**
 * The runs that end a held release (mode promote, abort, expire): the library does it under the app's
 * lock; this writes the outputs, the job summary and the GitHub deployment the holding run created.
 */
import * as core from '@actions/core';
import {
  code,
  errorMessage,
  escapeHtml,
  setDeploymentStatus,
  writeSummary,
  type GitHubContext,
  type Phases,
  noticeOf,
} from '@deploy-suite/action-kit';
import {
  HoldExpiredError,
  abortHeld,
  digestOf,
  promoteHeld,
  scaleDownPrevious,
  type HeldRelease,
  type KubeClient,
  type LockOptions,
} from '@deploy-suite/kube';
import { signatureGate } from '@deploy-suite/supply-chain/inputs';
import type { BluegreenInputs } from './inputs.js';
import { checkPreview } from './preview.js';

/** Sets the holding run's GitHub deployment to how the hold ended; a GitHub failure only warns. */
async function closeGitHubDeployment(
  github: GitHubContext,
  inputs: BluegreenInputs,
  held: HeldRelease,
  state: 'success' | 'failure' | 'inactive',
  description: string,
  logUrl: string | undefined,
): Promise<void> {
  if (held.githubDeployment === undefined || !github.repository || !inputs.githubToken) return;
  await setDeploymentStatus(
    { apiUrl: github.apiUrl, token: inputs.githubToken },
    github.repository,
    held.githubDeployment,
    state,
    {
      description,
      ...(logUrl ? { logUrl } : {}),
      ...(state === 'success' && inputs.environmentUrl ? { environmentUrl: inputs.environmentUrl } : {}),
    },
  ).catch((error: unknown) =>
    core.warning(`could not set the GitHub deployment ${held.githubDeployment} to ${state}: ${errorMessage(error)}`),
  );
}

const heldRow = (held: HeldRelease): [string, string] => [
  'Held release',
  `${held.colour}, revision ${held.revision}: ${code(held.digest)}${held.config ? ` (configuration ${code(held.config)})` : ''}, held ${escapeHtml(held.heldAt)} until ${escapeHtml(held.expiresAt)}${held.runUrl ? ` by ${escapeHtml(held.runUrl)}` : ''}`,
];

export async function endHeldRelease(
  client: KubeClient,
  inputs: BluegreenInputs,
  github: GitHubContext,
  lockOptions: LockOptions,
  runUrl: string | undefined,
  phases: Phases,
): Promise<void> {
  const app = { namespace: inputs.namespace, app: inputs.app };
  core.setOutput('mode', inputs.mode);
  if (inputs.mode !== 'promote') {
    const result = await abortHeld(client, app, { ...lockOptions, onlyExpired: inputs.mode === 'expire' }, phases);
    core.setOutput('aborted', String(Boolean(result.aborted)));
    if (result.aborted)
      await closeGitHubDeployment(
        github,
        inputs,
        result.aborted,
        'inactive',
        inputs.mode === 'expire' ? 'hold expired: not promoted' : 'aborted: not promoted',
        runUrl,
      );
    if (result.aborted)
      await inputs.notifier.notify({
        ...noticeOf('bluegreen-deploy', inputs, github),
        event: 'aborted',
        revision: result.aborted.revision,
        digest: result.aborted.digest,
        colour: result.aborted.colour,
        reason: inputs.mode === 'expire' ? 'the hold expired before a promote' : 'aborted before promotion',
      });
    const ended = result.aborted ?? result.kept;
    await writeSummary(`bluegreen-deploy ${inputs.mode}: ${inputs.app}`, [
      ['Namespace', inputs.namespace],
      ...(ended ? [heldRow(ended)] : []),
      [
        'Outcome',
        result.aborted
          ? `aborted: ${result.aborted.colour} scaled down to 0; live traffic untouched`
          : result.kept
            ? `kept: it is held until ${escapeHtml(result.kept.expiresAt)}`
            : 'nothing is held for promotion',
      ],
      ['Kubernetes API requests', String(client.requestCount)],
    ]);
    return;
  }

  const gate = signatureGate(inputs.imagePolicy, 'Nothing was promoted', (m) => core.info(m));
  let previewSummary: string | undefined;
  let result;
  try {
    result = await promoteHeld(
      client,
      app,
      {
        ...lockOptions,
        readyTimeoutMs: inputs.progressDeadlineSeconds * 1000,
        ...(inputs.image ? { expectDigest: digestOf(inputs.image) } : {}),
        ...(gate ? { verifyImages: async (images: string[]) => void (await gate(images)) } : {}),
        ...(inputs.previewCheck
          ? { previewCheck: async () => void (previewSummary = await checkPreview(inputs.previewCheck!)) }
          : {}),
        ...(runUrl ? { runUrl } : {}),
      },
      phases,
    );
  } catch (error) {
    // An expired hold was aborted on the way: its GitHub deployment is over too.
    if (error instanceof HoldExpiredError)
      await closeGitHubDeployment(github, inputs, error.held, 'inactive', 'hold expired: not promoted', runUrl);
    throw error;
  }
  const { held } = result;
  let scaledDown = 'kept warm';
  if (inputs.scaleDownDelayMs !== undefined) {
    const outcome = await phases.run('scale-down', () =>
      scaleDownPrevious(
        client,
        {
          ...app,
          liveColour: result.liveColour,
          previousColour: result.previousColour,
          previousDigest: result.previousDigest,
          revision: held.revision,
        },
        inputs.scaleDownDelayMs!,
        { ...lockOptions, ...(runUrl ? { runUrl } : {}) },
      ),
    );
    scaledDown = outcome.scaledDown
      ? 'scaled down to 0 (a rollback scales it up first)'
      : `left as it is: ${outcome.reason}`;
  }
  await closeGitHubDeployment(
    github,
    inputs,
    held,
    'success',
    `promoted: live on ${held.colour}, revision ${held.revision}`,
    runUrl,
  );
  await inputs.notifier.notify({
    ...noticeOf('bluegreen-deploy', inputs, github),
    event: 'promoted',
    revision: held.revision,
    digest: held.digest,
    colour: result.liveColour,
    ...(result.previousDigest ? { previousDigest: result.previousDigest } : {}),
  });
  core.setOutput('live-colour', result.liveColour);
  core.setOutput('previous-colour', result.previousColour);
  core.setOutput('revision', String(held.revision));
  core.setOutput('digest', held.digest);
  core.setOutput('previous-digest', result.previousDigest);
  core.setOutput('config', held.config ?? '');
  core.setOutput('timings', JSON.stringify(phases.toJSON()));
  core.setOutput('api-requests', String(client.requestCount));
  await writeSummary(`bluegreen-deploy promote: ${inputs.app} live on ${result.liveColour}`, [
    ['Namespace', inputs.namespace],
    heldRow(held),
    ['Previous colour', `${result.previousColour}: ${code(result.previousDigest)}, ${scaledDown}`],
    [
      'Checked again',
      `the held colour's revision, image, configuration and pod template; its ready pods${previewSummary ? `; ${previewSummary}` : ''}${gate ? '; its signatures' : ''}`,
    ],
    ['Kubernetes API requests', String(client.requestCount)],
    ['Time', phases.timings.map((t) => `${t.name} ${t.seconds.toFixed(2)} s`).join(', ')],
  ]);
}
