import { githubRequest, type GitHubApiOptions } from './github-api.js';

export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'error' | 'inactive' | 'queued' | 'pending';

export interface DeploymentRequest {
  /** The commit deployed (for pull requests: the head commit). */
  ref: string;
  environment: string;
  description: string;
  payload: Record<string, unknown>;
  productionEnvironment?: boolean;
}

/**
 * GitHub's Deployments API (POST /repos/{owner}/{repo}/deployments and …/statuses): a deployment per
 * release, its status following the run. Shapes as GitHub documents them.
 */
export async function createDeployment(
  api: GitHubApiOptions,
  repository: string,
  request: DeploymentRequest,
): Promise<{ id: number }> {
  return githubRequest<{ id: number }>(api, 'POST', `/repos/${repository}/deployments`, {
    ref: request.ref,
    environment: request.environment,
    description: request.description.slice(0, 140),
    payload: request.payload,
    auto_merge: false,
    required_contexts: [],
    ...(request.productionEnvironment === undefined ? {} : { production_environment: request.productionEnvironment }),
  });
}

export async function setDeploymentStatus(
  api: GitHubApiOptions,
  repository: string,
  id: number,
  state: DeploymentState,
  details: { description?: string; environmentUrl?: string; logUrl?: string } = {},
): Promise<void> {
  await githubRequest(api, 'POST', `/repos/${repository}/deployments/${id}/statuses`, {
    state,
    ...(details.description ? { description: details.description.slice(0, 140) } : {}),
    ...(details.environmentUrl ? { environment_url: details.environmentUrl } : {}),
    ...(details.logUrl ? { log_url: details.logUrl } : {}),
    // Earlier successful deployments of the environment become inactive, as GitHub's UI expects.
    auto_inactive: true,
  });
}

export interface DeploymentRecord {
  id: number;
  environment: string;
  created_at: string;
  payload: Record<string, unknown> | string;
}

/** The newest deployments of an environment (GET /repos/{owner}/{repo}/deployments?environment=…). */
export async function listDeployments(
  api: GitHubApiOptions,
  repository: string,
  environment: string,
  perPage = 30,
): Promise<DeploymentRecord[]> {
  return githubRequest<DeploymentRecord[]>(
    api,
    'GET',
    `/repos/${repository}/deployments?environment=${encodeURIComponent(environment)}&per_page=${perPage}`,
  );
}
