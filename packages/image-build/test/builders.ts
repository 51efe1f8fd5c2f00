import type { BuildOptions, BuilderInfo } from '../src/index.js';

/** A current builder (docker/setup-buildx-action's), the platform's remote one, and Debian's docker 20.10 driver. */
export const CURRENT: BuilderInfo = {
  name: 'ci',
  driver: 'docker-container',
  buildkitVersion: 'v0.34.2',
  buildxVersion: '0.29.1',
  platforms: ['linux/amd64', 'linux/arm64'],
};
export const REMOTE: BuilderInfo = { ...CURRENT, driver: 'remote' };
export const CLASSIC: BuilderInfo = {
  name: 'default',
  driver: 'docker',
  buildkitVersion: 'v0.8+unknown',
  buildxVersion: '0.29.1+ds1',
  containerdStore: false,
  platforms: ['linux/amd64'],
};

/** A push of /src as r/app:1 with nothing else asked. */
export function buildOptions(overrides: Partial<BuildOptions> = {}): BuildOptions {
  return {
    context: '/src',
    buildArgs: new Map(),
    secretFiles: new Map(),
    secretEnvs: new Map(),
    platforms: [],
    push: true,
    load: false,
    tags: ['r/app:1'],
    labels: new Map(),
    annotations: new Map(),
    cacheFrom: [],
    cacheTo: [],
    noCache: false,
    pull: false,
    metadataFile: '/tmp/m.json',
    ...overrides,
  };
}
