import { InputError, type GitHubContext } from '@deploy-suite/action-kit';
import { planImage, type ImagePlan } from '@deploy-suite/image-build';
import { TagRuleError, gitContextFrom, type RepositoryInfo } from '@deploy-suite/oci';
import type { BuildImageInputs } from './inputs.js';

/** The tags, labels and annotations of this run, or an input error naming the tag rules. */
export function planFor(inputs: BuildImageInputs, github: GitHubContext, repo: RepositoryInfo): ImagePlan {
  const git = gitContextFrom(github, repo.defaultBranch, new Date());
  let plan: ImagePlan;
  try {
    plan = planImage(inputs.image, inputs.rules, inputs.flavor, git, repo, inputs.labels, inputs.annotations);
  } catch (error) {
    if (error instanceof TagRuleError)
      throw new InputError([{ input: 'tags', problem: error.message, fix: error.fix }]);
    throw error;
  }
  // A matrix job pushing by digest needs no tag: the merge job tags the index.
  const needsTag = (inputs.push && !inputs.pushByDigest) || inputs.digests.length > 0;
  if (needsTag && plan.references.length === 0) {
    throw new InputError([
      {
        input: 'tags',
        problem: `no rule produced a tag for this ${github.eventName || 'event'} (ref '${git.ref}')`,
        fix: 'add a rule that applies here, e.g. type=sha or type=raw,value=<tag>',
      },
    ]);
  }
  return plan;
}

/** The run's URL: the provenance's builder id, as docker/build-push-action gives it. */
export function runUrl(github: GitHubContext): string {
  if (!github.repository || !github.runId) return '';
  return `${github.serverUrl}/${github.repository}/actions/runs/${github.runId}/attempts/${github.runAttempt || '1'}`;
}
