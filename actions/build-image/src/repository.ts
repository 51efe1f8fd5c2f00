import * as core from '@actions/core';
import { githubRequest, errorMessage, type GitHubContext } from '@deploy-suite/action-kit';
import { repositoryFromApi, repositoryFromPayload, type RepositoryInfo } from '@deploy-suite/oci';

/**
 * The repository's metadata (default branch, description, license): from the event payload when it
 * has it, otherwise from GET /repos/{owner}/{repo}. Without either, no tag depends on the default branch.
 */
export async function resolveRepository(github: GitHubContext, token: string): Promise<RepositoryInfo> {
  const fromPayload = repositoryFromPayload(github.payload);
  if (fromPayload) return fromPayload;
  if (github.repository) {
    try {
      const repo = await githubRequest<Parameters<typeof repositoryFromApi>[0]>(
        { apiUrl: github.apiUrl, token },
        'GET',
        `/repos/${github.repository}`,
      );
      return repositoryFromApi(repo);
    } catch (error) {
      core.warning(
        `cannot read repository metadata of ${github.repository} (${errorMessage(error)}); tags that depend on the default branch are skipped`,
      );
    }
  }
  return {
    name: github.repository.split('/')[1] ?? '',
    description: '',
    htmlUrl: github.repository ? `${github.serverUrl}/${github.repository}` : '',
    license: '',
    defaultBranch: '',
  };
}
