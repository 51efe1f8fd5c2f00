import { missingFeature, supports, type BuilderInfo } from './builder.js';
import { cacheAttributes } from './cache-entry.js';
import { ghaCacheAccess, isGhaCache } from './gha-cache.js';

/** What one `docker buildx build` should do; produced from validated inputs, turned into arguments purely. */
export interface BuildOptions {
  context: string;
  file?: string;
  target?: string;
  buildArgs: Map<string, string>;
  /** Build secrets as files the caller wrote (mode 0600): id → path. */
  secretFiles: Map<string, string>;
  /** Build secrets taken from environment variables: id → variable name. */
  secretEnvs: Map<string, string>;
  platforms: string[];
  push: boolean;
  /** Push the image by its digest only, with no tag (a matrix job's part of a multi-platform image). */
  pushByDigest?: boolean;
  load: boolean;
  /** The image's name without tag, for push-by-digest's output. */
  imageName?: string;
  /** buildx's --provenance and --sbom values, resolved from the inputs and the builder (attestations.ts). */
  provenance?: string;
  sbom?: string;
  /** Full references: name:tag. */
  tags: string[];
  labels: Map<string, string>;
  /** Keys may carry buildx's level prefix: index:, manifest:, index-descriptor:, manifest-descriptor:. */
  annotations: Map<string, string>;
  cacheFrom: string[];
  cacheTo: string[];
  noCache: boolean;
  pull: boolean;
  builder?: string;
  metadataFile: string;
  /** The image's registry speaks plain HTTP (listed in insecure-registries). */
  insecureRegistry?: boolean;
}

export interface BuildxCommand {
  args: string[];
  /** What buildx needs in its environment beyond the passed basics (the runner's cache variables for type=gha). */
  env: Record<string, string>;
  /** What was dropped or changed to fit the builder, for warnings. */
  adjustments: string[];
}

/**
 * The buildx arguments for a build. Cache export failures are made non-fatal (`ignore-error=true`),
 * and cache export the builder cannot do at all is dropped with a warning instead of failing the build.
 */
export function buildxArgs(
  options: BuildOptions,
  builder: BuilderInfo,
  runnerEnv: NodeJS.ProcessEnv = process.env,
): BuildxCommand {
  const args = ['buildx', 'build', '--progress=plain', '--metadata-file', options.metadataFile];
  const gha = ghaCacheAccess([...options.cacheFrom, ...options.cacheTo], builder, runnerEnv);
  const adjustments: string[] = [...gha.notes];
  const cacheFrom = gha.usable ? options.cacheFrom : options.cacheFrom.filter((e) => !isGhaCache(e));
  const cacheTo = gha.usable ? options.cacheTo : options.cacheTo.filter((e) => !isGhaCache(e));
  if (options.builder) args.push('--builder', options.builder);
  if (options.file) args.push('--file', options.file);
  if (options.target) args.push('--target', options.target);
  for (const [key, value] of options.buildArgs) args.push('--build-arg', `${key}=${value}`);
  for (const [id, path] of options.secretFiles) args.push('--secret', `id=${id},src=${path}`);
  for (const [id, env] of options.secretEnvs) args.push('--secret', `id=${id},env=${env}`);
  if (options.platforms.length > 0) args.push('--platform', options.platforms.join(','));
  if (!options.pushByDigest) for (const tag of options.tags) args.push('--tag', tag);
  for (const [key, value] of options.labels) args.push('--label', `${key}=${value}`);
  if (options.annotations.size > 0) {
    const missing = missingFeature(builder, 'annotations');
    if (missing) {
      adjustments.push(`annotations skipped: ${missing}; the same metadata is in the image labels`);
    } else {
      for (const [key, value] of options.annotations) args.push('--annotation', `${key}=${value}`);
    }
  }
  if (options.provenance !== undefined) args.push(`--provenance=${options.provenance}`);
  if (options.sbom !== undefined) args.push(`--sbom=${options.sbom}`);
  for (const from of cacheFrom) args.push('--cache-from', from);
  for (const to of cacheTo) {
    const missing = missingFeature(builder, 'cache-export');
    const attributes = cacheAttributes(to);
    if (attributes.get('type') === 'inline') {
      args.push('--cache-to', to);
    } else if (missing) {
      adjustments.push(`cache-to '${to}' skipped: ${missing} (or use type=inline)`);
    } else {
      args.push('--cache-to', attributes.has('ignore-error') ? to : `${to},ignore-error=true`);
    }
  }
  if (options.noCache) args.push('--no-cache');
  if (options.pull) args.push('--pull');
  const insecure = options.insecureRegistry ? ',registry.insecure=true' : '';
  if (options.push && options.pushByDigest) {
    // No tag: the index is made later (the merge, or the non-root gate's tagging) under the tags.
    args.push(
      '--output',
      `type=image,name=${options.imageName ?? ''},push-by-digest=true,name-canonical=true,push=true${insecure}`,
    );
  } else if (options.push && options.insecureRegistry && supports(builder, 'image-exporter')) {
    // BuildKit pushes itself: the image exporter's registry.insecure lets it speak plain HTTP to this registry.
    args.push('--output', `type=image,push=true${insecure}`);
  } else if (options.push) {
    args.push('--push');
    if (options.insecureRegistry)
      adjustments.push(
        "the docker driver pushes with the Docker daemon's own settings: the daemon must list the registry in its insecure-registries (daemon.json), or the push is refused",
      );
  }
  if (options.load) args.push('--load');
  args.push(options.context);
  return { args, env: gha.env, adjustments };
}

/** What the builder cannot do of what the options ask, as errors (before anything is built). */
export function builderProblems(options: BuildOptions, builder: BuilderInfo): string[] {
  const problems: string[] = [];
  if (options.platforms.length > 1) {
    const missing = missingFeature(builder, 'multi-platform');
    if (missing) problems.push(`platforms ${options.platforms.join(', ')}: ${missing}`);
  }
  if (options.pushByDigest) {
    const missing = missingFeature(builder, 'push-by-digest');
    if (missing) problems.push(`push-by-digest: ${missing}`);
  }
  const levelled = [...options.annotations.keys()].some((k) => /^index(-descriptor)?[:[]/.test(k));
  if (levelled) {
    const missing = missingFeature(builder, 'index-annotations');
    if (missing) problems.push(`index annotations: ${missing}`);
  }
  return problems;
}
