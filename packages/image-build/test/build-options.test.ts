import { describe, expect, it } from '@jest/globals';
import { buildxArgs, capabilitiesOf, needsBuilderInspection, runsAsRoot, type BuildOptions } from '../src/index.js';

function options(overrides: Partial<BuildOptions> = {}): BuildOptions {
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

describe('buildx arguments', () => {
  it('maps every option', () => {
    const { args, adjustments } = buildxArgs(
      options({
        file: '/src/Dockerfile',
        target: 'runtime',
        buildArgs: new Map([['V', '1 2']]),
        secretFiles: new Map([['npm', '/tmp/s']]),
        secretEnvs: new Map([['gh', 'GH_TOKEN']]),
        platforms: ['linux/amd64', 'linux/arm64'],
        labels: new Map([['a', 'b c']]),
        annotations: new Map([['org.opencontainers.image.title', 't']]),
        cacheFrom: ['type=registry,ref=r/app:cache'],
        cacheTo: ['type=registry,ref=r/app:cache,mode=max'],
        noCache: true,
        pull: true,
        load: true,
        builder: 'ci',
      }),
      capabilitiesOf('docker-container'),
    );
    expect(adjustments).toEqual([]);
    expect(args).toEqual([
      'buildx',
      'build',
      '--progress=plain',
      '--metadata-file',
      '/tmp/m.json',
      '--builder',
      'ci',
      '--file',
      '/src/Dockerfile',
      '--target',
      'runtime',
      '--build-arg',
      'V=1 2',
      '--secret',
      'id=npm,src=/tmp/s',
      '--secret',
      'id=gh,env=GH_TOKEN',
      '--platform',
      'linux/amd64,linux/arm64',
      '--tag',
      'r/app:1',
      '--label',
      'a=b c',
      '--annotation',
      'org.opencontainers.image.title=t',
      '--cache-from',
      'type=registry,ref=r/app:cache',
      '--cache-to',
      'type=registry,ref=r/app:cache,mode=max,ignore-error=true',
      '--no-cache',
      '--pull',
      '--push',
      '--load',
      '/src',
    ]);
  });

  it('cache export never fails the build: ignore-error kept as the user set it', () => {
    const { args } = buildxArgs(
      options({ cacheTo: ['type=local,dest=/c,ignore-error=false'] }),
      capabilitiesOf('docker-container'),
    );
    expect(args).toContain('type=local,dest=/c,ignore-error=false');
  });

  it('the docker driver: cache export dropped with a warning, inline kept, annotations left to labels', () => {
    const { args, adjustments } = buildxArgs(
      options({ cacheTo: ['type=registry,ref=r/app:cache', 'type=inline'], annotations: new Map([['k', 'v']]) }),
      capabilitiesOf('docker'),
    );
    expect(args.join(' ')).not.toContain('type=registry,ref=r/app:cache');
    expect(args.join(' ')).toContain('--cache-to type=inline');
    expect(args).not.toContain('--annotation');
    expect(adjustments).toHaveLength(2);
    expect(adjustments[0]).toMatch(/annotations/);
    expect(adjustments[1]).toMatch(/cannot export cache/);
  });

  it('inspects the builder only when an input depends on the driver', () => {
    expect(needsBuilderInspection(options())).toBe(false);
    expect(needsBuilderInspection(options({ cacheTo: ['type=inline'] }))).toBe(false);
    expect(needsBuilderInspection(options({ cacheTo: ['type=gha'] }))).toBe(true);
    expect(needsBuilderInspection(options({ platforms: ['linux/amd64', 'linux/arm64'] }))).toBe(true);
    expect(needsBuilderInspection(options({ annotations: new Map([['k', 'v']]) }))).toBe(true);
  });
});

describe('runsAsRoot', () => {
  it.each([
    ['', true],
    ['root', true],
    ['0', true],
    ['0:0', true],
    ['root:staff', true],
    ['10001', false],
    ['app', false],
    ['10001:10001', false],
    [' 0 ', true],
  ])('%j → %s', (user, root) => {
    expect(runsAsRoot(user)).toBe(root);
  });
});

describe('a registry over plain HTTP (insecure-registries)', () => {
  it('a BuildKit builder pushes with registry.insecure, and the builder is inspected to know which', () => {
    expect(needsBuilderInspection(options({ insecureRegistry: true }))).toBe(true);
    expect(needsBuilderInspection(options({ insecureRegistry: true, push: false }))).toBe(false);
    const { args, adjustments } = buildxArgs(options({ insecureRegistry: true }), capabilitiesOf('remote'));
    expect(args).toContain('type=image,push=true,registry.insecure=true');
    expect(args).not.toContain('--push');
    expect(adjustments).toEqual([]);
  });
  it('the docker driver pushes as the daemon is set up: --push, and a warning that names daemon.json', () => {
    const { args, adjustments } = buildxArgs(options({ insecureRegistry: true }), capabilitiesOf('docker'));
    expect(args).toContain('--push');
    expect(args.join(' ')).not.toContain('registry.insecure');
    expect(adjustments).toEqual([expect.stringContaining('insecure-registries (daemon.json)')]);
  });
});
