import {
  computeOciLabels,
  computeTags,
  mergeLabels,
  repositoryName,
  type Flavor,
  type GitContext,
  type ImageReference,
  type RepositoryInfo,
  type TagRule,
} from '@deploy-suite/oci';

export interface ImagePlan {
  /** name:tag for every computed tag, highest priority first. */
  references: string[];
  tags: string[];
  version: string;
  labels: Map<string, string>;
  annotations: Map<string, string>;
  notes: string[];
}

/**
 * What to name and label the image: the tags from the rules, the OCI labels metadata-action would set,
 * the user's labels on top. Pure, so every event fixture can be checked without a build.
 */
export function planImage(
  image: ImageReference,
  rules: TagRule[],
  flavor: Flavor,
  git: GitContext,
  repo: RepositoryInfo,
  userLabels: Map<string, string>,
  userAnnotations: Map<string, string>,
): ImagePlan {
  const computed = computeTags(rules, git, flavor);
  const oci = computeOciLabels(repo, git, computed.version);
  const name = repositoryName(image);
  return {
    references: computed.tags.map((tag) => `${name}:${tag}`),
    tags: computed.tags,
    version: computed.version,
    labels: mergeLabels(oci, userLabels),
    annotations: mergeLabels(oci, userAnnotations),
    notes: computed.notes,
  };
}

/** Whether an image config's User means the container runs as root (unset counts: it defaults to root). */
export function runsAsRoot(user: string | undefined): boolean {
  const name = (user ?? '').trim().split(':')[0] ?? '';
  return name === '' || name === 'root' || name === '0';
}

/** buildx's annotation levels: a key may start with one, with an optional [platform] after it. */
export const ANNOTATION_LEVEL = /^(index|manifest|index-descriptor|manifest-descriptor)(\[[^\]]+\])?:/;

/**
 * The annotations as buildx takes them: a key without a level is the manifest's (BuildKit's default),
 * and the index's too when the build makes an index (several platforms or attestations), so registries
 * that show an index's description (GHCR) show it. Keys with a level stay as they are.
 */
export function levelAnnotations(annotations: Map<string, string>, makesIndex: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of annotations) {
    out.set(key, value);
    if (makesIndex && !ANNOTATION_LEVEL.test(key)) out.set(`index:${key}`, value);
  }
  return out;
}
