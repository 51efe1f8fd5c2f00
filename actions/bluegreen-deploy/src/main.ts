// The entry: reads and checks the inputs, checks the credential and every right the run uses, then
// deploys (deploy.ts) or ends a held release (held.ts).
import * as core from '@actions/core';
import {
  InputReader,
  Phases,
  errorMessage,
  readGitHubContext,
  requireRunner,
  runUrl,
  type GitHubContext,
  noticeOf,
} from '@deploy-suite/action-kit';
import { APP_ACCESS, DEPLOY_RUNNERS, createKubeClient, preflight } from '@deploy-suite/kube';
import { readBluegreenInputs, type BluegreenInputs } from './inputs.js';
import { prepareApp, type PreparedApp } from './app.js';
import { runDeploy } from './deploy.js';
import { endHeldRelease } from './held.js';

/** The action, as the runner starts it (src/index.ts): inputs from the environment, outputs and summary to it. */
export async function run(): Promise<void> {
  requireRunner('bluegreen-deploy', DEPLOY_RUNNERS);
  const inputs = readBluegreenInputs(new InputReader(), process.env.GITHUB_WORKSPACE || process.cwd());
  const github = readGitHubContext();
  const url = runUrl(github);
  try {
    await deployOrEnd(inputs, github, url);
  } catch (error) {
    await inputs.notifier.notify({
      ...noticeOf('bluegreen-deploy', inputs, github),
      event: 'failed',
      ...(inputs.image ? { digest: inputs.image.slice(inputs.image.indexOf('@') + 1) } : {}),
      reason: `${inputs.mode}: ${errorMessage(error)}`,
    });
    throw error;
  }
}

async function deployOrEnd(inputs: BluegreenInputs, github: GitHubContext, url: string): Promise<void> {
  const client = createKubeClient(inputs.access!);
  const lockOptions = {
    holder:
      github.repository && github.runId ? `${github.repository}/actions/runs/${github.runId}` : `local-${process.pid}`,
    lockWaitMs: inputs.lockTimeoutSeconds * 1000,
    leaseSeconds: 30,
    log: (m: string) => core.info(m),
  };
  if (inputs.mode !== 'deploy') {
    // Ending a held release renders nothing: it switches (or scales down) what the hold recorded.
    await preflight(client, inputs.namespace, APP_ACCESS);
    try {
      await endHeldRelease(client, inputs, github, lockOptions, url, new Phases());
    } finally {
      client.close();
    }
    return;
  }
  // Before any phase: the credential (an exec plugin runs here), the namespace and every right the run
  // uses, the kinds of the app's manifests included (rendered and looked up in discovery first).
  let app: PreparedApp | undefined;
  const { namespaceLabels } = await preflight(
    client,
    inputs.namespace,
    async () => {
      const prepared = await prepareApp(client, inputs);
      app = prepared.app;
      return prepared.needs;
    },
    {
      rbacFile:
        inputs.manifests || inputs.appSecret
          ? 'actions/bluegreen-deploy/rbac.yaml -f actions/bluegreen-deploy/rbac-manifests.yaml'
          : 'actions/bluegreen-deploy/rbac.yaml',
    },
  );
  await runDeploy(
    client,
    inputs,
    github,
    { ...app!, ...(namespaceLabels ? { namespaceLabels } : {}) },
    lockOptions,
    url,
  );
}
