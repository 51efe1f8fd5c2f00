import { readFileSync } from 'node:fs';

/** The parts of a workflow run's context that the actions read, from the runner's variables. */
export interface GitHubContext {
  eventName: string;
  /** The event payload as GitHub documents it per event; {} when the runner gave none. */
  payload: Record<string, unknown>;
  sha: string;
  ref: string;
  repository: string;
  serverUrl: string;
  apiUrl: string;
  runId: string;
  runAttempt: string;
  actor: string;
}

export function readGitHubContext(env: NodeJS.ProcessEnv = process.env): GitHubContext {
  let payload: Record<string, unknown> = {};
  const eventPath = env.GITHUB_EVENT_PATH;
  if (eventPath) {
    try {
      payload = JSON.parse(readFileSync(eventPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`cannot read the event payload at GITHUB_EVENT_PATH=${eventPath}: ${(error as Error).message}`);
    }
  }
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    payload,
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    serverUrl: (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/$/, ''),
    apiUrl: (env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/$/, ''),
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
    actor: env.GITHUB_ACTOR ?? '',
  };
}

/** The URL of the run, for annotations and summaries. */
export function runUrl(context: GitHubContext): string {
  return context.repository && context.runId
    ? `${context.serverUrl}/${context.repository}/actions/runs/${context.runId}`
    : '';
}
