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
  load: boolean;
  /** Full references: name:tag. */
  tags: string[];
  labels: Map<string, string>;
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

/** The buildx driver's abilities that change which arguments are valid. */
export interface BuilderCapabilities {
  driver: string;
  /** The docker driver (without the containerd store) cannot export cache, annotations or several platforms. */
  cacheExport: boolean;
  annotations: boolean;
  multiPlatform: boolean;
}

export function capabilitiesOf(driver: string): BuilderCapabilities {
  const docker = driver === 'docker';
  return { driver, cacheExport: !docker, annotations: !docker, multiPlatform: !docker };
}

export interface BuildxCommand {
  args: string[];
  /** What was dropped or changed to fit the builder, for warnings. */
  adjustments: string[];
}

/**
 * The buildx arguments for a build. Cache export failures are made non-fatal (`ignore-error=true`),
 * and cache export the builder cannot do at all is dropped with a warning instead of failing the build.
 */
export function buildxArgs(options: BuildOptions, builder: BuilderCapabilities | undefined): BuildxCommand {
  const args = ['buildx', 'build', '--progress=plain', '--metadata-file', options.metadataFile];
  const adjustments: string[] = [];
  if (options.builder) args.push('--builder', options.builder);
  if (options.file) args.push('--file', options.file);
  if (options.target) args.push('--target', options.target);
  for (const [key, value] of options.buildArgs) args.push('--build-arg', `${key}=${value}`);
  for (const [id, path] of options.secretFiles) args.push('--secret', `id=${id},src=${path}`);
  for (const [id, env] of options.secretEnvs) args.push('--secret', `id=${id},env=${env}`);
  if (options.platforms.length > 0) args.push('--platform', options.platforms.join(','));
  for (const tag of options.tags) args.push('--tag', tag);
  for (const [key, value] of options.labels) args.push('--label', `${key}=${value}`);
  if (options.annotations.size > 0) {
    if (builder && !builder.annotations) {
      adjustments.push(
        `the ${builder.driver} driver cannot write manifest annotations; the same metadata is in the image labels`,
      );
    } else {
      for (const [key, value] of options.annotations) args.push('--annotation', `${key}=${value}`);
    }
  }
  for (const from of options.cacheFrom) args.push('--cache-from', from);
  for (const to of options.cacheTo) {
    if (to === 'type=inline' || to.startsWith('type=inline,')) {
      args.push('--cache-to', to);
    } else if (builder && !builder.cacheExport) {
      adjustments.push(
        `cache-to '${to}' skipped: the ${builder.driver} driver cannot export cache (use a docker-container builder, or type=inline)`,
      );
    } else {
      args.push('--cache-to', /(^|,)ignore-error=/.test(to) ? to : `${to},ignore-error=true`);
    }
  }
  if (options.noCache) args.push('--no-cache');
  if (options.pull) args.push('--pull');
  if (options.push && options.insecureRegistry && builder && builder.driver !== 'docker') {
    // BuildKit pushes itself: the image exporter's registry.insecure lets it speak plain HTTP to this registry.
    args.push('--output', 'type=image,push=true,registry.insecure=true');
  } else if (options.push) {
    args.push('--push');
    if (options.insecureRegistry)
      adjustments.push(
        "the docker driver pushes with the Docker daemon's own settings: the daemon must list the registry in its insecure-registries (daemon.json), or the push is refused",
      );
  }
  if (options.load) args.push('--load');
  args.push(options.context);
  return { args, adjustments };
}

/** Whether the builder must be inspected first: only when an input depends on what the driver can do. */
export function needsBuilderInspection(options: BuildOptions): boolean {
  return (
    options.annotations.size > 0 ||
    (options.push && options.insecureRegistry === true) ||
    options.cacheTo.some((to) => !to.startsWith('type=inline')) ||
    options.platforms.length > 1
  );
}
