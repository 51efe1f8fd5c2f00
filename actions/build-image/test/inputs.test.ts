import { describe, expect, it } from '@jest/globals';
import { InputReader } from '@deploy-suite/action-kit';
import { inputProblems } from '../../../test/support/input-problems.js';
import { dockerfileStages, readBuildImageInputs } from '../src/inputs.js';

const workspace = new URL('../../../', import.meta.url).pathname;
const valid = { image: '127.0.0.1:5000/acme/app', context: 'test/fixtures/app' };

function read(values: Record<string, string>) {
  const warnings: string[] = [];
  const inputs = readBuildImageInputs(new InputReader((name) => values[name]), workspace, (m) => warnings.push(m));
  return { inputs, warnings };
}

const problems = (values: Record<string, string>) => inputProblems(() => read(values));

describe('build-image inputs', () => {
  it('valid inputs with defaults', () => {
    const { inputs } = read(valid);
    expect(inputs.image).toEqual({ registry: '127.0.0.1:5000', repository: 'acme/app' });
    expect(inputs.file).toBe(`${workspace}test/fixtures/app/Dockerfile`);
    expect(inputs.push).toBe(true);
    expect(inputs.rules.length).toBe(6);
    expect(inputs.login).toBeUndefined();
  });

  it('insecure-registries: hosts read and checked', () => {
    expect(
      read({ ...valid, 'insecure-registries': 'harbor.lab:8080, registry.lab' }).inputs.insecureRegistries,
    ).toEqual(['harbor.lab:8080', 'registry.lab']);
    expect(read(valid).inputs.insecureRegistries).toEqual([]);
    expect(problems({ ...valid, 'insecure-registries': 'http://harbor.lab' })).toEqual([
      expect.objectContaining({ input: 'insecure-registries', problem: "'http://harbor.lab' is not a registry host" }),
    ]);
  });

  it('login: registry defaults to the image host', () => {
    const { inputs } = read({ ...valid, username: 'u', password: 'p' });
    expect(inputs.login).toEqual({ registry: '127.0.0.1:5000', username: 'u', password: 'p' });
  });

  it.each([
    [{ image: '' }, 'image', /required/],
    [{ image: 'Acme/App' }, 'image', /lowercase/],
    [{ image: 'ghcr.io/acme/app:1.0' }, 'image', /without a tag/],
    [{ tags: 'type=semver' }, 'tags', /needs a pattern/],
    [{ tags: 'type=bogus' }, 'tags', /unknown type/],
    [{ flavor: 'latest=maybe' }, 'flavor', /not auto, true or false/],
    [{ context: 'no/such/dir' }, 'context', /does not exist/],
    [{ file: 'test/fixtures/app/Missing.Dockerfile' }, 'file', /does not exist/],
    [{ target: 'nosuchstage' }, 'target', /not in .*stages: base, with-secret, runtime/],
    [{ 'build-args': '1BAD=x' }, 'build-args', /not a valid build-arg name/],
    [{ 'build-args': 'novalue' }, 'build-args', /not KEY=value/],
    [{ secrets: 'bad id=x' }, 'secrets', /secret id/],
    [{ 'secret-files': 'npm=/no/such/file' }, 'secret-files', /does not exist/],
    [{ 'secret-envs': 'gh=DEPLOY_SUITE_UNSET_VARIABLE' }, 'secret-envs', /not set/],
    [{ platforms: 'amd64' }, 'platforms', /os\/arch/],
    [{ push: 'yes' }, 'push', /not a boolean/],
    [{ 'cache-to': 'type=redis,ref=x' }, 'cache-to', /unknown/],
    [{ 'cache-from': 'ref=x' }, 'cache-from', /no type=/],
    [{ username: 'u' }, 'password', /empty while username/],
    [{ password: 'p' }, 'username', /empty while password/],
    [{ 'require-non-root': 'strict' }, 'require-non-root', /not a boolean/],
    [{ provenance: 'mode=full' }, 'provenance', /mode must be min or max/],
    [{ provenance: 'max' }, 'provenance', /not key=value/],
    [{ sbom: 'mode=max' }, 'sbom', /not a sbom attribute/],
    [{ annotations: 'manifests:k=v' }, 'annotations', /unknown level 'manifests'/],
    [{ annotations: 'index:=v' }, 'annotations', /has a level but no key/],
    [{ 'push-by-digest': 'true', push: 'false' }, 'push-by-digest', /push is false/],
    [{ 'push-by-digest': 'true', load: 'true' }, 'push-by-digest', /load: true/],
    [{ digests: 'sha256:abc' }, 'digests', /is not a digest/],
    [
      { digests: '127.0.0.1:5000/other/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' },
      'digests',
      /another image/,
    ],
    [
      {
        digests:
          'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,127.0.0.1:5000/acme/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      },
      'digests',
      /twice/,
    ],
    [
      { digests: 'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'push-by-digest': 'true' },
      'digests',
      /together with push-by-digest/,
    ],
  ])('%j fails on input %s', (overrides, input, problem) => {
    const found = problems({ ...valid, ...overrides });
    expect(found.map((p) => p.input)).toEqual([input]);
    expect(found[0]!.problem).toMatch(problem);
    expect(found[0]!.fix.length).toBeGreaterThan(5);
  });

  it('attestation, digest and merge inputs are read as given', () => {
    const { inputs } = read({ ...valid, provenance: 'mode=max', 'push-by-digest': 'true' });
    expect(inputs).toMatchObject({ provenance: 'mode=max', sbom: 'false', pushByDigest: true, digests: [] });
    expect(read(valid).inputs.provenance).toBe('');
    expect(read({ ...valid, annotations: 'index:a=1\nmanifest[linux/arm64]:b=2\nc=3' }).inputs.annotations.size).toBe(
      3,
    );
  });

  it('merge mode needs no context: the digests alone, image references reduced to their digest', () => {
    const { inputs } = read({
      image: '127.0.0.1:5000/acme/app',
      context: 'no/checkout/here',
      digests:
        'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n127.0.0.1:5000/acme/app@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
    });
    expect(inputs.digests).toEqual([
      'sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      'sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
    ]);
  });

  it('reports several bad inputs at once', () => {
    expect(problems({ image: 'BAD', context: 'nope', platforms: 'x' }).map((p) => p.input)).toEqual([
      'image',
      'context',
      'platforms',
    ]);
  });

  it('warns when a build-arg looks like a secret', () => {
    expect(read({ ...valid, 'build-args': 'NPM_TOKEN=abc' }).warnings[0]).toMatch(/looks like a secret/);
  });

  it('a remote context skips the local file checks', () => {
    const { inputs } = read({ image: 'acme/app', context: 'https://github.com/acme/app.git#main' });
    expect(inputs.context).toBe('https://github.com/acme/app.git#main');
    expect(inputs.file).toBeUndefined();
  });

  it('finds stage names', () => {
    expect(dockerfileStages('FROM a AS Build\nFROM --platform=$X b as run\nFROM c\n')).toEqual(['build', 'run']);
  });
});
