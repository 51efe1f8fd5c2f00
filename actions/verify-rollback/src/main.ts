import { InputReader, errorMessage, readGitHubContext, requireRunner } from '@deploy-suite/action-kit';
import { DEPLOY_RUNNERS } from '@deploy-suite/kube';
import { readVerifyRollbackInputs } from './inputs.js';
import { AnalysisFailure, notice, verifyOrRollBack } from './verify.js';

/** The action, as the runner starts it (src/index.ts): inputs from the environment, outputs and summary to it. */
export async function run(): Promise<void> {
  requireRunner('verify-rollback', DEPLOY_RUNNERS);
  const inputs = readVerifyRollbackInputs(new InputReader(), process.env.GITHUB_WORKSPACE || process.cwd());
  const github = readGitHubContext();
  try {
    await verifyOrRollBack(inputs, github);
  } catch (error) {
    // A failed analysis that rolled back was told as rolled-back already.
    if (!(error instanceof AnalysisFailure && error.rolledBack))
      await inputs.notifier.notify({
        ...notice(inputs, github),
        event: 'failed',
        ...(error instanceof AnalysisFailure ? { digest: error.digest, trigger: error.trigger } : {}),
        reason: errorMessage(error),
      });
    throw error;
  }
}
