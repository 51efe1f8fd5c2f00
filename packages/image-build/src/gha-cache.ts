import { missingFeature, type BuilderInfo } from './builder.js';
import { cacheAttributes } from './cache-entry.js';

// The runner's variables buildx reads for `type=gha` (the GitHub Actions cache): the job's cache token and
// the two services' URLs, and which service to speak. The runner gives them to JavaScript actions only;
// buildx, a child of the action, sees them only if they are passed (toolEnvironment passes no runner token).
const RUNNER_CACHE_VARIABLES = [
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_CACHE_URL',
  'ACTIONS_RESULTS_URL',
  'ACTIONS_CACHE_SERVICE_V2',
  'ACTIONS_CACHE_API_FORCE_VERSION',
] as const;

export const isGhaCache = (entry: string): boolean => cacheAttributes(entry).get('type') === 'gha';

// Go's strconv.ParseBool, as go-actions-cache reads ACTIONS_CACHE_SERVICE_V2.
const goTrue = (value: string | undefined) => ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value ?? '');

export interface GhaCacheAccess {
  /** The runner's cache variables buildx needs: added to its environment for the build, nothing else. */
  env: Record<string, string>;
  /** The gha entries the builder can use; the others are dropped with a note saying why. */
  usable: boolean;
  /** Which of GitHub's cache services BuildKit will speak (2 on github.com since 2025). */
  service?: 1 | 2;
  notes: string[];
}

/**
 * Whether the build can use the GitHub Actions cache its cache-from/cache-to entries name, and what buildx
 * must be handed for it. buildx itself drops a gha entry without a token or URL in silence, and an older
 * BuildKit speaks only the legacy service, which github.com shut down (April 2025): both said here instead.
 */
export function ghaCacheAccess(entries: string[], builder: BuilderInfo, env: NodeJS.ProcessEnv): GhaCacheAccess {
  const gha = entries.filter(isGhaCache).map(cacheAttributes);
  if (gha.length === 0) return { env: {}, usable: true, notes: [] };
  const skipped = (why: string): GhaCacheAccess => ({
    env: {},
    usable: false,
    notes: [`cache type=gha skipped: ${why}; the build runs without the GitHub Actions cache`],
  });
  // docs.docker.com: "not supported with the default docker driver", containerd image store or not.
  if (builder.driver === 'docker')
    return skipped(
      `builder '${builder.name}' has the docker driver, which cannot use it; use a docker-container builder (docker/setup-buildx-action)`,
    );
  const forced = env.ACTIONS_CACHE_API_FORCE_VERSION;
  const v2 =
    gha.some((a) => a.get('version') === '2') ||
    (!gha.some((a) => a.get('version') === '1') && (forced ? forced === 'v2' : goTrue(env.ACTIONS_CACHE_SERVICE_V2)));
  const service = v2 ? 2 : 1;
  if (!env.ACTIONS_RUNTIME_TOKEN && !gha.every((a) => a.has('token')))
    return skipped(
      "this step's environment has no ACTIONS_RUNTIME_TOKEN (GitHub's runner gives it to every JavaScript action; a workflow that runs build-image in a container or under act without a cache server has none): set token= and url= on the entry, or use type=registry",
    );
  const url = v2 ? 'ACTIONS_RESULTS_URL' : 'ACTIONS_CACHE_URL';
  if (!env[url] && !gha.every((a) => a.has(v2 ? 'url_v2' : 'url')))
    return skipped(`the runner's cache service v${service} URL (${url}) is not in this step's environment`);
  if (v2) {
    const old = missingFeature(builder, 'gha-cache-v2');
    if (old)
      return skipped(
        `${old}; GitHub's cache service v2 is the one github.com serves (the legacy service shut down in April 2025). Update the builder (docker/setup-buildx-action with version: latest and a current driver-opts image)`,
      );
  }
  const passed: Record<string, string> = {};
  for (const name of RUNNER_CACHE_VARIABLES) {
    const value = env[name];
    if (value !== undefined && value !== '') passed[name] = value;
  }
  return { env: passed, usable: true, service, notes: [] };
}
