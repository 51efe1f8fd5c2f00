import * as core from '@actions/core';
import {
  errorMessage,
  githubFailureFix,
  listDeployments,
  setDeploymentStatus,
  type GitHubContext,
} from '@deploy-suite/action-kit';
import type { RollbackResult } from '@deploy-suite/kube';

/** The digest a deployment's payload names (bluegreen-deploy writes {app, namespace, image}). */
function payloadOf(payload: Record<string, unknown> | string): { app?: string; namespace?: string; digest?: string } {
  const p = typeof payload === 'string' ? (JSON.parse(payload || '{}') as Record<string, unknown>) : payload;
  const image = typeof p.image === 'string' ? p.image : '';
  return {
    app: p.app as string | undefined,
    namespace: p.namespace as string | undefined,
    digest: image.slice(image.indexOf('@') + 1) || undefined,
  };
}

/**
 * After a rollback, GitHub's environment tells the truth: the rolled-back release's deployment is marked
 * failed and the restored one's active again. GitHub unreachable or the token short of deployments:
 * write only warns; the rollback itself is done.
 */
export async function markRollback(
  github: GitHubContext,
  token: string,
  environment: string,
  target: { app: string; namespace: string },
  result: RollbackResult,
  reason: string,
  logUrl: string,
): Promise<void> {
  const api = { apiUrl: github.apiUrl, token };
  try {
    const deployments = await listDeployments(api, github.repository, environment);
    const ours = deployments
      .map((d) => ({ d, p: payloadOf(d.payload) }))
      .filter(({ p }) => p.app === target.app && p.namespace === target.namespace);
    const failed = ours.find(({ p }) => p.digest === result.fromDigest);
    const restored = ours.find(({ p }) => p.digest === result.liveDigest);
    if (failed)
      await setDeploymentStatus(api, github.repository, failed.d.id, 'failure', {
        description: `rolled back: ${reason}`,
        logUrl,
      });
    if (restored)
      await setDeploymentStatus(api, github.repository, restored.d.id, 'success', {
        description: `live again after a rollback (revision ${result.revision})`,
        logUrl,
      });
    core.info(
      `GitHub environment ${environment}: ${failed ? `deployment ${failed.d.id} failed` : 'no deployment of the rolled-back digest'}, ${restored ? `deployment ${restored.d.id} active again` : 'no deployment of the restored digest'}`,
    );
  } catch (error) {
    core.warning(
      `could not update the GitHub deployments of ${environment} (${errorMessage(error)}); the rollback is done. Fix: ${githubFailureFix(error, github.apiUrl)}`,
    );
  }
}
