import { describe, expect, it } from '@jest/globals';
import {
  missingFeature,
  parseBuildxInspect,
  parseBuildxVersion,
  supports,
  versionSatisfies,
  type BuilderInfo,
} from '../src/index.js';
import { CURRENT } from './builders.js';

// What buildx 0.29 printed on the platform for the remote BuildKit and for Debian's docker 20.10.
const REMOTE_INSPECT = `Name:          deploy-suite-buildkit
Driver:        remote
Last Activity: 2026-12-02 09:07:36 +0000 UTC

Nodes:
Name:             deploy-suite-buildkit0
Endpoint:         unix:///tmp/deploy-suite/buildkit/buildkitd.sock
Status:           running
BuildKit version: v0.34.2
Platforms:        linux/amd64, linux/amd64/v2, linux/arm64*, linux/386
Labels:
 org.mobyproject.buildkit.worker.executor:         oci
`;
const DOCKER_INSPECT = `Name:   default
Driver: docker

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.8+unknown
Platforms:        linux/amd64, linux/386
`;

describe('reading the builder', () => {
  it('takes name, driver, BuildKit version and platforms from buildx inspect', () => {
    expect(parseBuildxInspect(REMOTE_INSPECT)).toEqual({
      name: 'deploy-suite-buildkit',
      driver: 'remote',
      buildkitVersion: 'v0.34.2',
      platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/arm64', 'linux/386'],
    });
    expect(parseBuildxInspect(DOCKER_INSPECT)).toMatchObject({ driver: 'docker', buildkitVersion: 'v0.8+unknown' });
    expect(parseBuildxInspect('Name: x\nDriver: docker-container\n')).toEqual({
      name: 'x',
      driver: 'docker-container',
      platforms: [],
    });
  });

  it('takes buildx version from upstream and from distribution builds', () => {
    expect(parseBuildxVersion('github.com/docker/buildx v0.30.1 9e66234aa13328a5e75b75aa5574e1ca6d6d9c01')).toBe(
      '0.30.1',
    );
    expect(parseBuildxVersion('github.com/docker/buildx 0.29.1+ds1 0.29.1+ds1-4')).toBe('0.29.1+ds1');
    expect(parseBuildxVersion('')).toBeUndefined();
  });

  it.each([
    ['v0.34.2', '>=0.11.0', true],
    ['v0.8+unknown', '>=0.11.0', false],
    ['0.11.0', '>=0.11.0', true],
    ['v0.10.6', '>=0.11.0', false],
    [undefined, '>=0.8.0', false],
    ['garbage', '>=0.8.0', false],
  ])('versionSatisfies(%j, %s) is %s', (version, range, expected) => {
    expect(versionSatisfies(version, range)).toBe(expected);
  });
});

describe('what a builder can do', () => {
  const current: BuilderInfo = { ...CURRENT, name: 'b' };
  const features = [
    'attestations',
    'annotations',
    'index-annotations',
    'multi-platform',
    'cache-export',
    'push-by-digest',
    'image-exporter',
  ] as const;

  it('a current docker-container or remote builder does everything', () => {
    for (const f of features) {
      expect(supports(current, f)).toBe(true);
      expect(supports({ ...current, driver: 'remote' }, f)).toBe(true);
    }
  });

  it('the classic docker driver does none of it, and says how to get it', () => {
    const classic = { ...current, driver: 'docker', buildkitVersion: 'v0.8+unknown', containerdStore: false };
    for (const f of features)
      expect(missingFeature(classic, f)).toMatch(/^the docker driver .*docker-container builder/);
  });

  it('the docker driver on the containerd image store does what its BuildKit version allows', () => {
    const store = { ...current, driver: 'docker', containerdStore: true };
    expect(supports({ ...store, buildkitVersion: 'v0.16.0' }, 'attestations')).toBe(true);
    expect(missingFeature({ ...store, buildkitVersion: 'v0.10.0' }, 'attestations')).toBe(
      "BuildKit ≥ 0.11.0 is needed to make provenance and SBOM attestations; builder 'b' runs BuildKit v0.10.0",
    );
  });

  it('an old buildx or an unknown version is named', () => {
    expect(missingFeature({ ...current, buildxVersion: '0.9.1' }, 'attestations')).toBe(
      'buildx ≥ 0.10.0 is needed to make provenance and SBOM attestations; this runner has buildx 0.9.1',
    );
    const unknown: BuilderInfo = { name: 'b', driver: 'remote', buildxVersion: '0.29.1', platforms: [] };
    expect(missingFeature(unknown, 'annotations')).toContain('runs BuildKit (version unknown)');
  });
});
