import { describe, expect, it } from '@jest/globals';
import { buildxArgs, cacheAttributes, ghaCacheAccess } from '../src/index.js';
import { CLASSIC, CURRENT, buildOptions } from './builders.js';

// What a JavaScript action's step has on github.com today (cache service v2), and on a GHES runner (v1).
const GITHUB_COM = {
  ACTIONS_RUNTIME_TOKEN: 'runtime-token',
  ACTIONS_CACHE_URL: 'https://artifactcache.example/abc/',
  ACTIONS_RESULTS_URL: 'https://results.example/',
  ACTIONS_CACHE_SERVICE_V2: 'True',
  GITHUB_TOKEN: 'not-for-buildx',
};
const GHES = {
  ACTIONS_RUNTIME_TOKEN: 'runtime-token',
  ACTIONS_CACHE_URL: 'https://ghes.example/_services/artifactcache/abc/',
};
const OLD_BUILDKIT = { ...CURRENT, buildkitVersion: 'v0.19.4' };

describe('cacheAttributes', () => {
  it('reads the CSV fields, a bare reference being the registry type', () => {
    expect([...cacheAttributes('type=gha,mode=max,scope=app')]).toEqual([
      ['type', 'gha'],
      ['mode', 'max'],
      ['scope', 'app'],
    ]);
    expect(cacheAttributes('user/app:cache').get('type')).toBe('registry');
  });
});

describe('ghaCacheAccess', () => {
  it('without a gha entry hands nothing on', () => {
    expect(ghaCacheAccess(['type=registry,ref=r/c'], CURRENT, GITHUB_COM)).toEqual({
      env: {},
      usable: true,
      notes: [],
    });
  });

  it("on github.com: the v2 service, and exactly the runner's cache variables (no other token)", () => {
    const access = ghaCacheAccess(['type=gha', 'type=gha,mode=max'], CURRENT, GITHUB_COM);
    expect(access).toEqual({
      env: {
        ACTIONS_RUNTIME_TOKEN: 'runtime-token',
        ACTIONS_CACHE_URL: 'https://artifactcache.example/abc/',
        ACTIONS_RESULTS_URL: 'https://results.example/',
        ACTIONS_CACHE_SERVICE_V2: 'True',
      },
      usable: true,
      service: 2,
      notes: [],
    });
  });

  it('on GHES (no ACTIONS_CACHE_SERVICE_V2): the v1 service by ACTIONS_CACHE_URL', () => {
    const access = ghaCacheAccess(['type=gha'], OLD_BUILDKIT, GHES);
    expect(access.usable).toBe(true);
    expect(access.service).toBe(1);
    expect(Object.keys(access.env)).toEqual(['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_CACHE_URL']);
  });

  it('ACTIONS_CACHE_SERVICE_V2 is read as Go reads a bool; version= and ACTIONS_CACHE_API_FORCE_VERSION override it', () => {
    for (const value of ['1', 't', 'TRUE', 'true'])
      expect(ghaCacheAccess(['type=gha'], CURRENT, { ...GITHUB_COM, ACTIONS_CACHE_SERVICE_V2: value }).service).toBe(2);
    for (const value of ['0', 'false', 'yes', ''])
      expect(ghaCacheAccess(['type=gha'], CURRENT, { ...GITHUB_COM, ACTIONS_CACHE_SERVICE_V2: value }).service).toBe(1);
    expect(ghaCacheAccess(['type=gha,version=1'], CURRENT, GITHUB_COM).service).toBe(1);
    expect(ghaCacheAccess(['type=gha,version=2'], CURRENT, GHES).usable).toBe(false); // no ACTIONS_RESULTS_URL
    expect(
      ghaCacheAccess(['type=gha'], CURRENT, { ...GITHUB_COM, ACTIONS_CACHE_API_FORCE_VERSION: 'v1' }).service,
    ).toBe(1);
    expect(
      ghaCacheAccess(['type=gha'], CURRENT, {
        ...GHES,
        ACTIONS_RESULTS_URL: 'https://r/',
        ACTIONS_CACHE_API_FORCE_VERSION: 'v2',
      }).service,
    ).toBe(2);
  });

  it('no runtime token: skipped with a note naming ACTIONS_RUNTIME_TOKEN, unless every entry carries its own', () => {
    const access = ghaCacheAccess(['type=gha'], CURRENT, { ACTIONS_RESULTS_URL: 'https://r/' });
    expect(access.usable).toBe(false);
    expect(access.env).toEqual({});
    expect(access.notes).toEqual([
      expect.stringMatching(/^cache type=gha skipped: .*no ACTIONS_RUNTIME_TOKEN.*without the GitHub Actions cache$/),
    ]);
    expect(ghaCacheAccess(['type=gha,token=t,url=https://c/'], CURRENT, {}).usable).toBe(true);
    expect(ghaCacheAccess(['type=gha,token=t', 'type=gha'], CURRENT, {}).usable).toBe(false);
  });

  it("no URL of the service it would speak: skipped, naming the runner's variable", () => {
    const v2 = ghaCacheAccess(['type=gha'], CURRENT, { ...GITHUB_COM, ACTIONS_RESULTS_URL: '' });
    expect(v2.notes[0]).toContain('cache service v2 URL (ACTIONS_RESULTS_URL)');
    const v1 = ghaCacheAccess(['type=gha'], CURRENT, { ACTIONS_RUNTIME_TOKEN: 't' });
    expect(v1.notes[0]).toContain('cache service v1 URL (ACTIONS_CACHE_URL)');
  });

  it('v2 on a BuildKit before 0.20 or a buildx before 0.21: skipped, saying which version it needs', () => {
    const buildkit = ghaCacheAccess(['type=gha'], OLD_BUILDKIT, GITHUB_COM);
    expect(buildkit.usable).toBe(false);
    expect(buildkit.notes[0]).toMatch(
      /BuildKit ≥ 0\.20\.0 is needed .* runs BuildKit v0\.19\.4; .*legacy service shut down/,
    );
    const buildx = ghaCacheAccess(['type=gha'], { ...CURRENT, buildxVersion: '0.20.1' }, GITHUB_COM);
    expect(buildx.notes[0]).toMatch(/buildx ≥ 0\.21\.0 is needed .* this runner has buildx 0\.20\.1/);
  });

  it('the docker driver cannot use it, containerd image store or not', () => {
    for (const builder of [CLASSIC, { ...CLASSIC, containerdStore: true }]) {
      const access = ghaCacheAccess(['type=gha'], builder, GITHUB_COM);
      expect(access.usable).toBe(false);
      expect(access.notes[0]).toContain("builder 'default' has the docker driver");
    }
  });
});

describe('buildx arguments with type=gha', () => {
  const options = (cacheFrom: string[], cacheTo: string[]) => buildOptions({ cacheFrom, cacheTo });

  it('usable: the entries as given (exports non-fatal), the token in the environment and never in an argument', () => {
    const command = buildxArgs(options(['type=gha'], ['type=gha,mode=max']), CURRENT, GITHUB_COM);
    expect(command.args).toEqual(
      expect.arrayContaining(['--cache-from', 'type=gha', '--cache-to', 'type=gha,mode=max,ignore-error=true']),
    );
    expect(command.args.join(' ')).not.toContain('runtime-token');
    expect(command.env.ACTIONS_RUNTIME_TOKEN).toBe('runtime-token');
    expect(command.adjustments).toEqual([]);
  });

  it('not usable: only the gha entries dropped, with the note among the adjustments', () => {
    const command = buildxArgs(options(['type=gha', 'type=registry,ref=r/c'], ['type=gha,mode=max']), CURRENT, {});
    expect(command.args).toEqual(expect.arrayContaining(['--cache-from', 'type=registry,ref=r/c']));
    expect(command.args).not.toContain('type=gha');
    expect(command.args.some((a) => a.startsWith('type=gha'))).toBe(false);
    expect(command.env).toEqual({});
    expect(command.adjustments).toEqual([expect.stringContaining('cache type=gha skipped')]);
  });
});
