/**
 * The git facts tag and label rules are computed from, taken from a GitHub event. Pure: built from
 * the runner's context and the repository's metadata, no I/O.
 */
export interface GitContext {
  eventName: string;
  /** refs/heads/…, refs/tags/…, refs/pull/N/merge, or '' */
  ref: string;
  /** The commit the image is built from: for pull requests the PR's head commit, not the merge commit. */
  sha: string;
  defaultBranch: string;
  prNumber?: number;
  /** For pull requests, the branch the PR targets. */
  baseRef?: string;
  now: Date;
}

export interface RepositoryInfo {
  name: string;
  description: string;
  htmlUrl: string;
  license: string;
  defaultBranch: string;
  /** The repository's visibility, when the payload or the API said it. */
  private?: boolean;
}

interface PayloadRepository {
  name?: string;
  description?: string | null;
  html_url?: string;
  default_branch?: string;
  license?: { spdx_id?: string | null } | null;
  private?: boolean;
}

/** Repository metadata from the event payload when it carries it (push, pull_request, dispatch, schedule). */
export function repositoryFromPayload(payload: Record<string, unknown>): RepositoryInfo | undefined {
  const repo = payload.repository as PayloadRepository | undefined;
  if (!repo || typeof repo.default_branch !== 'string' || repo.default_branch === '') return undefined;
  return repositoryFromApi(repo);
}

/** The same from GET /repos/{owner}/{repo}. */
export function repositoryFromApi(repo: PayloadRepository): RepositoryInfo {
  const spdx = repo.license?.spdx_id ?? '';
  return {
    name: repo.name ?? '',
    description: repo.description ?? '',
    htmlUrl: repo.html_url ?? '',
    license: spdx === 'NOASSERTION' ? '' : spdx,
    defaultBranch: repo.default_branch ?? '',
    ...(typeof repo.private === 'boolean' ? { private: repo.private } : {}),
  };
}

interface PullRequestPayload {
  number?: number;
  pull_request?: { number?: number; head?: { sha?: string }; base?: { ref?: string } };
}

export function gitContextFrom(
  event: { eventName: string; ref: string; sha: string; payload: Record<string, unknown> },
  defaultBranch: string,
  now: Date,
): GitContext {
  const pr = event.payload as PullRequestPayload;
  const isPullRequest = /^pull_request/.test(event.eventName) && pr.pull_request !== undefined;
  const context: GitContext = { eventName: event.eventName, ref: event.ref, sha: event.sha, defaultBranch, now };
  if (isPullRequest) {
    context.prNumber = pr.pull_request?.number ?? pr.number;
    context.sha = pr.pull_request?.head?.sha || event.sha;
    const base = pr.pull_request?.base?.ref;
    if (base) context.baseRef = base;
  } else {
    const match = /^refs\/pull\/([0-9]+)\//.exec(event.ref);
    if (match) context.prNumber = Number(match[1]);
  }
  return context;
}
