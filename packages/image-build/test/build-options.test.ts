import { describe, expect, it } from '@jest/globals';
import { buildxArgs, builderProblems, levelAnnotations, runsAsRoot } from '../src/index.js';
import { CLASSIC, CURRENT, REMOTE, buildOptions } from './builders.js';

const options = buildOptions;

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
      CURRENT,
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
    const { args } = buildxArgs(options({ cacheTo: ['type=local,dest=/c,ignore-error=false'] }), CURRENT);
    expect(args).toContain('type=local,dest=/c,ignore-error=false');
  });

  it('the docker driver: cache export dropped with a warning, inline kept, annotations left to labels', () => {
    const { args, adjustments } = buildxArgs(
      options({ cacheTo: ['type=registry,ref=r/app:cache', 'type=inline'], annotations: new Map([['k', 'v']]) }),
      CLASSIC,
    );
    expect(args.join(' ')).not.toContain('type=registry,ref=r/app:cache');
    expect(args.join(' ')).toContain('--cache-to type=inline');
    expect(args).not.toContain('--annotation');
    expect(adjustments).toHaveLength(2);
    expect(adjustments[0]).toMatch(/annotations/);
    expect(adjustments[1]).toMatch(/cannot export cache other than inline/);
  });

  it('attestations: the resolved --provenance and --sbom values are passed as they are', () => {
    const { args } = buildxArgs(options({ provenance: 'mode=max,builder-id=u', sbom: 'true' }), CURRENT);
    expect(args).toContain('--provenance=mode=max,builder-id=u');
    expect(args).toContain('--sbom=true');
    expect(buildxArgs(options({ provenance: 'false' }), CURRENT).args).toContain('--provenance=false');
    expect(buildxArgs(options(), CURRENT).args.join(' ')).not.toMatch(/--provenance|--sbom/);
  });

  it('push-by-digest: no --tag, the image exporter by digest with a canonical name', () => {
    const { args } = buildxArgs(options({ pushByDigest: true, imageName: 'r/app', insecureRegistry: true }), REMOTE);
    expect(args).not.toContain('--tag');
    expect(args).not.toContain('--push');
    expect(args).toContain(
      'type=image,name=r/app,push-by-digest=true,name-canonical=true,push=true,registry.insecure=true',
    );
  });

  it('what the classic docker driver cannot do is an error before the build; a current builder can', () => {
    const asks = options({
      platforms: ['linux/amd64', 'linux/arm64'],
      pushByDigest: true,
      annotations: new Map([['index:k', 'v']]),
    });
    const problems = builderProblems(asks, CLASSIC);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^platforms linux\/amd64, linux\/arm64: the docker driver .*docker-container builder/);
    expect(problems[1]).toMatch(/^push-by-digest:/);
    expect(problems[2]).toMatch(/^index annotations:/);
    expect(builderProblems(asks, CURRENT)).toEqual([]);
    expect(builderProblems(asks, { ...CLASSIC, containerdStore: true, buildkitVersion: 'v0.16.0' })).toEqual([]);
  });

  it('an old buildx cannot annotate: a warning that names the version it needs', () => {
    const { args, adjustments } = buildxArgs(options({ annotations: new Map([['k', 'v']]) }), {
      ...CURRENT,
      buildxVersion: '0.11.2',
    });
    expect(args).not.toContain('--annotation');
    expect(adjustments).toEqual([
      expect.stringContaining('buildx ≥ 0.12.0 is needed to write manifest annotations; this runner has buildx 0.11.2'),
    ]);
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
  it('a BuildKit builder pushes with registry.insecure', () => {
    const { args, adjustments } = buildxArgs(options({ insecureRegistry: true }), REMOTE);
    expect(args).toContain('type=image,push=true,registry.insecure=true');
    expect(args).not.toContain('--push');
    expect(adjustments).toEqual([]);
  });
  it('the docker driver pushes as the daemon is set up: --push, and a warning that names daemon.json', () => {
    const { args, adjustments } = buildxArgs(options({ insecureRegistry: true }), CLASSIC);
    expect(args).toContain('--push');
    expect(args.join(' ')).not.toContain('registry.insecure');
    expect(adjustments).toEqual([expect.stringContaining('insecure-registries (daemon.json)')]);
  });
});

describe('annotation levels', () => {
  it("a key without a level is the manifest's, and the index's too when the build makes an index", () => {
    const given = new Map([
      ['org.opencontainers.image.title', 't'],
      ['manifest[linux/arm64]:k', 'a'],
      ['index:only', 'i'],
    ]);
    expect([...levelAnnotations(given, false)]).toEqual([...given]);
    expect([...levelAnnotations(given, true)]).toEqual([
      ['org.opencontainers.image.title', 't'],
      ['index:org.opencontainers.image.title', 't'],
      ['manifest[linux/arm64]:k', 'a'],
      ['index:only', 'i'],
    ]);
  });
});
