import { isTransientStatus, retry } from './retry.js';
import { errorMessage } from './errors.js';
import { httpRequest, type HttpResponse } from './http.js';

export class GitHubApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'GitHubApiError';
  }
}

export interface GitHubApiOptions {
  apiUrl: string;
  token: string;
  attempts?: number;
}

/**
 * One call to GitHub's REST API, as JSON, retried on throttling and server errors, over the suite's one
 * HTTP transport (no client library: the bundles stay small and start fast); the shapes are GitHub's
 * documented ones.
 */
export async function githubRequest<T>(
  options: GitHubApiOptions,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const url = `${options.apiUrl}${path}`;
  return retry(
    async () => {
      let response: HttpResponse;
      try {
        response = await httpRequest(url, {
          method,
          headers: {
            accept: 'application/vnd.github+json',
            'x-github-api-version': '2022-11-28',
            'user-agent': 'deploy-suite',
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
          timeoutMs: 30_000,
        });
      } catch (error) {
        throw new GitHubApiError(0, `${method} ${path}: ${errorMessage(error)}`);
      }
      const text = response.text();
      if (!response.ok) {
        let detail = text.slice(0, 300);
        try {
          detail = (JSON.parse(text) as { message?: string }).message ?? detail;
        } catch {
          // not JSON: keep the text
        }
        throw new GitHubApiError(response.status, `${method} ${path} answered ${response.status}: ${detail}`);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
    {
      attempts: options.attempts ?? 3,
      isTransient: (error) =>
        error instanceof GitHubApiError && (error.status === 0 || isTransientStatus(error.status)),
    },
  );
}

/** What to do about a failed GitHub call, by its cause: the network, the token, or the job's permissions. */
export function githubFailureFix(error: unknown, apiUrl: string): string {
  const status = error instanceof GitHubApiError ? error.status : 0;
  if (status === 0 && /answered \d+ to CONNECT/.test(errorMessage(error)))
    return `the runner's proxy could not reach ${apiUrl}: check that it resolves and allows that host (a host the runner reaches directly goes in NO_PROXY)`;
  if (status === 0)
    return `check that ${apiUrl} is reachable from the runner (a runner behind a proxy needs HTTPS_PROXY, and NO_PROXY must not name it)`;
  if (status === 401) return 'the token is not valid for this repository: pass github-token (default: the job token)';
  if (status === 403 || status === 404) return 'give the job permissions: deployments: write';
  return 'GitHub answered with an error; the deploy does not depend on it';
}
