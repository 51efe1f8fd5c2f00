import type { GitContext, RepositoryInfo } from './git-context.js';

/** The OCI labels (and manifest annotations) metadata-action sets, from the repository and the build. */
export function computeOciLabels(repo: RepositoryInfo, context: GitContext, version: string): Map<string, string> {
  return new Map([
    ['org.opencontainers.image.title', repo.name],
    ['org.opencontainers.image.description', repo.description],
    ['org.opencontainers.image.url', repo.htmlUrl],
    ['org.opencontainers.image.source', repo.htmlUrl],
    ['org.opencontainers.image.version', version],
    ['org.opencontainers.image.created', context.now.toISOString()],
    ['org.opencontainers.image.revision', context.sha],
    ['org.opencontainers.image.licenses', repo.license],
  ]);
}

/** Computed labels, overridden by the user's own (a user's `labels` input always wins). */
export function mergeLabels(computed: Map<string, string>, user: Map<string, string>): Map<string, string> {
  const merged = new Map(computed);
  for (const [key, value] of user) merged.set(key, value);
  return merged;
}
