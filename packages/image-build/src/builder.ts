import semver from 'semver';

/**
 * What the runner's builder is, read from `docker buildx inspect` and `docker buildx version` (as
 * docker/actions-toolkit does): every feature below is gated on these, never assumed.
 */
export interface BuilderInfo {
  name: string;
  driver: string;
  /** BuildKit's version as buildx reports it (`v0.34.2`); absent when the node is not running yet. */
  buildkitVersion?: string;
  buildxVersion?: string;
  /** The docker driver on an engine with the containerd image store: it then exports like BuildKit. */
  containerdStore?: boolean;
  platforms: string[];
}

export type BuilderFeature =
  | 'attestations'
  | 'annotations'
  | 'index-annotations'
  | 'multi-platform'
  | 'cache-export'
  | 'gha-cache-v2'
  | 'push-by-digest'
  | 'image-exporter';

interface Requirement {
  buildkit?: string;
  buildx?: string;
  /** Whether the classic docker driver (no containerd store) can do it at all. */
  classicDocker: boolean;
  what: string;
}

/** The least versions, from the BuildKit and buildx release notes. */
export const FEATURE_REQUIREMENTS: Readonly<Record<BuilderFeature, Requirement>> = {
  attestations: {
    buildkit: '>=0.11.0',
    buildx: '>=0.10.0',
    classicDocker: false,
    what: 'make provenance and SBOM attestations',
  },
  annotations: { buildkit: '>=0.11.0', buildx: '>=0.12.0', classicDocker: false, what: 'write manifest annotations' },
  'index-annotations': {
    buildkit: '>=0.11.0',
    buildx: '>=0.12.0',
    classicDocker: false,
    what: 'write index annotations',
  },
  'multi-platform': { classicDocker: false, what: 'build several platforms at once' },
  'cache-export': { classicDocker: false, what: 'export cache other than inline' },
  // BuildKit 0.20 (go-actions-cache's v2 API) and buildx 0.21 (url_v2 from ACTIONS_RESULTS_URL).
  'gha-cache-v2': {
    buildkit: '>=0.20.0',
    buildx: '>=0.21.0',
    classicDocker: false,
    what: "use GitHub's cache service v2 (type=gha)",
  },
  'push-by-digest': { buildkit: '>=0.8.0', classicDocker: false, what: 'push by digest without tags' },
  'image-exporter': { classicDocker: false, what: 'use the image exporter with registry options' },
};

function coerce(version: string | undefined): string | undefined {
  return version ? (semver.coerce(version)?.version ?? undefined) : undefined;
}

/** True when the version satisfies the range; an unknown version does not (the feature is not assumed). */
export function versionSatisfies(version: string | undefined, range: string): boolean {
  const v = coerce(version);
  return v !== undefined && semver.satisfies(v, range);
}

/** Why the builder cannot do a feature ('' when it can): names the driver and the version it needs. */
export function missingFeature(builder: BuilderInfo, feature: BuilderFeature): string {
  const need = FEATURE_REQUIREMENTS[feature];
  const classic = builder.driver === 'docker' && !builder.containerdStore;
  if (classic && !need.classicDocker)
    return `the docker driver (without the containerd image store) cannot ${need.what}; use a docker-container builder (docker/setup-buildx-action) or turn on the containerd image store`;
  if (need.buildkit && !versionSatisfies(builder.buildkitVersion, need.buildkit))
    return `BuildKit ${need.buildkit.replace('>=', '≥ ')} is needed to ${need.what}; builder '${builder.name}' runs BuildKit ${builder.buildkitVersion ?? '(version unknown)'}`;
  if (need.buildx && !versionSatisfies(builder.buildxVersion, need.buildx))
    return `buildx ${need.buildx.replace('>=', '≥ ')} is needed to ${need.what}; this runner has buildx ${builder.buildxVersion ?? '(version unknown)'}`;
  return '';
}

export function supports(builder: BuilderInfo, feature: BuilderFeature): boolean {
  return missingFeature(builder, feature) === '';
}

/** The builder's name, driver, BuildKit version and platforms from `docker buildx inspect` (first node). */
export function parseBuildxInspect(text: string): Omit<BuilderInfo, 'buildxVersion' | 'containerdStore'> {
  const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const buildkit = field('BuildKit version') ?? field('Buildkit');
  const platforms = (field('Platforms') ?? '')
    .split(',')
    .map((p) => p.trim().replace(/\*$/, ''))
    .filter(Boolean);
  return {
    name: field('Name') ?? '',
    driver: field('Driver') ?? 'unknown',
    ...(buildkit && buildkit !== '' ? { buildkitVersion: buildkit } : {}),
    platforms,
  };
}

/** buildx's version from `docker buildx version` ("github.com/docker/buildx v0.29.1 <commit>"). */
export function parseBuildxVersion(text: string): string | undefined {
  return /buildx\S*\s+v?(\d+\.\d+\.\d+\S*)/.exec(text)?.[1];
}
