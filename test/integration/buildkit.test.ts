// build-image on the builder GitHub's runners have: a current BuildKit (v0.34, from its module) as buildx's
// remote driver, QEMU for arm64. Its pushes are OCI indexes (default provenance), several platforms, push by
// digest and the merge of per-arch jobs; each read back from the registry, by imagetools and by crane.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadEvent, runAction, type ActionRun } from '../support/action-runner.js';
import { blobJson, listTags, manifestJson, registryHost, tagDigest } from '../support/registry-api.js';
import { startGhaCache } from '../support/gha-cache.js';

const run = `bk${randomBytes(4).toString('hex')}`;
const registry = registryHost();
const builder = process.env.DEPLOY_SUITE_BUILDKIT_BUILDER ?? 'deploy-suite-buildkit';
const base = process.env.DEPLOY_SUITE_MULTI_BASE_IMAGE ?? `${registry}/base/debian:bookworm-multi`;
const context = 'test/fixtures/app';
const crane = process.env.DEPLOY_SUITE_CRANE ?? 'crane';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}
interface Index {
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}
interface Manifest {
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}
interface PlatformOutput {
  platform: string;
  digest: string;
  size: number;
  user: string;
}

function build(inputs: Record<string, string>, event = 'push-default-branch', env: Record<string, string> = {}) {
  return loadEvent(event).then((e) =>
    runAction('build-image', { context, builder, 'build-args': `BASE=${base}\nAPP_VERSION=${run}`, ...inputs }, e, env),
  );
}

const platformOf = (d: Descriptor) =>
  d.platform ? [d.platform.os, d.platform.architecture, d.platform.variant].filter(Boolean).join('/') : '';

async function expectTagsResolveTo(repository: string, references: string[], digest: string): Promise<void> {
  expect(references.length).toBeGreaterThan(0);
  for (const reference of references) {
    expect(await tagDigest(repository, reference.slice(reference.lastIndexOf(':') + 1))).toBe(digest);
  }
}

function imagetools(reference: string): Index {
  const result = spawnSync('docker', ['buildx', 'imagetools', 'inspect', '--builder', builder, '--raw', reference], {
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Index;
}

function craneDigest(reference: string): string {
  const result = spawnSync(crane, ['digest', '--insecure', reference], { encoding: 'utf8' });
  expect(result.status).toBe(0);
  return result.stdout.trim();
}

describe('one platform, the default provenance', () => {
  const repository = `${run}/one`;
  let first: ActionRun;
  let index: Index;

  beforeAll(async () => {
    first = await build({ image: `${registry}/${repository}`, platforms: 'linux/amd64' });
    index = await manifestJson<Index>(repository, first.outputs.digest ?? 'missing');
  }, 240_000);

  it('pushes an OCI index of the image and its provenance, and the digest output is the index', async () => {
    expect(first.exitCode).toBe(0);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map(platformOf).sort()).toEqual(['linux/amd64', 'unknown/unknown']);
    const attestation = index.manifests.find((m) => platformOf(m) === 'unknown/unknown')!;
    const image = index.manifests.find((m) => platformOf(m) === 'linux/amd64')!;
    expect(attestation.annotations).toMatchObject({
      'vnd.docker.reference.type': 'attestation-manifest',
      'vnd.docker.reference.digest': image.digest,
    });
    await expectTagsResolveTo(repository, first.outputs.tags!.split('\n'), first.outputs.digest!);
    const platforms = JSON.parse(first.outputs.platforms!) as PlatformOutput[];
    expect(platforms).toEqual([
      { platform: 'linux/amd64', digest: image.digest, size: expect.any(Number), user: '10001' },
    ]);
  });

  it('the provenance is mode=max for this public repository, with the run as the builder id', async () => {
    const attestation = index.manifests.find((m) => platformOf(m) === 'unknown/unknown')!;
    const manifest = await manifestJson<Manifest>(repository, attestation.digest);
    const statement = await blobJson<{
      predicateType: string;
      predicate: { runDetails?: { builder?: { id?: string } }; buildDefinition?: { externalParameters?: unknown } };
    }>(repository, manifest.layers[0]!.digest);
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.predicate.runDetails?.builder?.id).toBe(
      'https://github.com/acme/shop-api/actions/runs/1001/attempts/1',
    );
    expect(first.log).toContain(
      '--provenance=mode=max,builder-id=https://github.com/acme/shop-api/actions/runs/1001/attempts/1',
    );
    expect(first.summary).toContain('provenance (mode=max)');
  });

  it('the OCI annotations are on the index and on the manifest', async () => {
    expect(index.annotations).toMatchObject({
      'org.opencontainers.image.source': 'https://github.com/acme/shop-api',
      'org.opencontainers.image.version': 'trunk',
    });
    const image = index.manifests.find((m) => platformOf(m) === 'linux/amd64')!;
    const manifest = await manifestJson<Manifest>(repository, image.digest);
    expect(manifest.annotations).toMatchObject({
      'org.opencontainers.image.revision': '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
    });
  });

  it('imagetools and crane read the same digest and platforms the outputs name', () => {
    const tag = first.outputs.tags!.split('\n')[0]!;
    expect(craneDigest(tag)).toBe(first.outputs.digest);
    expect(imagetools(tag).manifests.map(platformOf).sort()).toEqual(['linux/amd64', 'unknown/unknown']);
  });

  it('the summary names the builder and lists each platform with its manifest', () => {
    expect(first.summary).toContain('deploy-suite-buildkit (remote driver, BuildKit v0.34.2');
    const platforms = JSON.parse(first.outputs.platforms!) as PlatformOutput[];
    expect(first.summary).toContain(platforms[0]!.digest);
    expect(first.summary).toMatch(/<td>linux\/amd64<\/td><td><code>sha256:/);
  });

  it('provenance: false pushes a plain manifest; a private repository gets mode=min', async () => {
    const plain = await build({ image: `${registry}/${run}/plain`, platforms: 'linux/amd64', provenance: 'false' });
    expect(plain.exitCode).toBe(0);
    const manifest = await manifestJson<Manifest>(`${run}/plain`, plain.outputs.digest!);
    expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(JSON.parse(plain.outputs.platforms!)[0].digest).toBe(plain.outputs.digest);

    const event = await loadEvent('push-default-branch');
    (event.payload.repository as Record<string, unknown>).private = true;
    const hidden = await runAction(
      'build-image',
      {
        image: `${registry}/${run}/private`,
        context,
        builder,
        platforms: 'linux/amd64',
        'build-args': `BASE=${base}`,
      },
      event,
    );
    expect(hidden.exitCode).toBe(0);
    expect(hidden.log).toContain('--provenance=mode=min,inline-only=true,builder-id=');
  }, 240_000);
});

describe('two platforms by QEMU, gated before anything is tagged', () => {
  it('builds linux/amd64 and linux/arm64 into one index; each platform runs as 10001 and ran its RUN step', async () => {
    const repository = `${run}/multi`;
    const result = await build({
      image: `${registry}/${repository}`,
      platforms: 'linux/amd64,linux/arm64',
      'require-non-root': 'true',
    });
    expect(result.exitCode).toBe(0);
    const index = await manifestJson<Index>(repository, result.outputs.digest!);
    expect(index.manifests.map(platformOf).sort()).toEqual([
      'linux/amd64',
      'linux/arm64',
      'unknown/unknown',
      'unknown/unknown',
    ]);
    const platforms = JSON.parse(result.outputs.platforms!) as PlatformOutput[];
    expect(platforms.map((p) => [p.platform, p.user])).toEqual([
      ['linux/amd64', '10001'],
      ['linux/arm64', '10001'],
    ]);
    const arm = await manifestJson<Manifest>(repository, platforms[1]!.digest);
    const config = await blobJson<{ architecture: string }>(repository, arm.config.digest);
    expect(config.architecture).toBe('arm64');
    // The gate pushed by digest, read both configs, then tagged: one build, then a tag phase.
    expect(result.log).toContain('push-by-digest=true');
    expect(JSON.parse(result.outputs.timings!)).toHaveProperty('tag');
    await expectTagsResolveTo(repository, result.outputs.tags!.split('\n'), result.outputs.digest!);
    expect(craneDigest(`${registry}/${repository}:trunk`)).toBe(result.outputs.digest);
  }, 300_000);

  it('a root platform fails the gate and nothing is tagged; the log says the digest stays untagged', async () => {
    const repository = `${run}/multi-root`;
    const result = await runAction(
      'build-image',
      {
        image: `${registry}/${repository}`,
        context,
        builder,
        platforms: 'linux/amd64,linux/arm64',
        'build-args': `BASE=${base}\nUSER_ID=0`,
        'require-non-root': 'true',
      },
      await loadEvent('push-default-branch'),
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(
      /::error::verify: the image runs as root \(linux\/amd64: User '0', linux\/arm64: User '0'\) and require-non-root is true; nothing was tagged: .*@sha256:[a-f0-9]{64} stays untagged/,
    );
    expect(await listTags(repository)).toEqual([]);
  }, 300_000);
});

describe('native per-arch runners: push by digest in two jobs, then the merge', () => {
  const repository = `${run}/merged`;
  let amd: ActionRun;
  let arm: ActionRun;
  let merged: ActionRun;

  beforeAll(async () => {
    amd = await build({ image: `${registry}/${repository}`, platforms: 'linux/amd64', 'push-by-digest': 'true' });
    arm = await build({ image: `${registry}/${repository}`, platforms: 'linux/arm64', 'push-by-digest': 'true' });
    merged = await runAction(
      'build-image',
      {
        image: `${registry}/${repository}`,
        digests: `${amd.outputs.digest}\n${arm.outputs.image}`,
        annotations: 'index:org.opencontainers.image.description=merged by the suite',
        'require-non-root': 'true',
      },
      await loadEvent('push-default-branch'),
    );
  }, 360_000);

  it('each job pushes by digest only: a digest, no tag', async () => {
    expect(amd.exitCode).toBe(0);
    expect(arm.exitCode).toBe(0);
    expect(amd.outputs.tags).toBe('');
    expect(amd.outputs.digest).toMatch(/^sha256:/);
    expect(amd.log).toContain('::notice::pushed by digest only');
    expect(arm.outputs.image).toBe(`${registry}/${repository}@${arm.outputs.digest}`);
  });

  it('the merge pushes one index of both platforms and their provenance, under every tag', async () => {
    expect(merged.exitCode).toBe(0);
    const index = await manifestJson<Index>(repository, merged.outputs.digest!);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map(platformOf).sort()).toEqual([
      'linux/amd64',
      'linux/arm64',
      'unknown/unknown',
      'unknown/unknown',
    ]);
    expect(index.annotations).toMatchObject({
      'org.opencontainers.image.description': 'merged by the suite',
      'org.opencontainers.image.source': 'https://github.com/acme/shop-api',
    });
    expect((await listTags(repository)).sort()).toEqual(['latest', 'sha-8f3c2a1', 'trunk']);
    await expectTagsResolveTo(repository, merged.outputs.tags!.split('\n'), merged.outputs.digest!);
    const platforms = JSON.parse(merged.outputs.platforms!) as PlatformOutput[];
    expect(platforms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(merged.log).not.toContain('[command]docker');
    expect(merged.summary).toContain('2 platforms, 2 attestation manifests, into one index');
  });

  it('imagetools and crane agree with the merge outputs', () => {
    const tag = `${registry}/${repository}:trunk`;
    expect(craneDigest(tag)).toBe(merged.outputs.digest);
    const seen = imagetools(tag);
    const platforms = JSON.parse(merged.outputs.platforms!) as PlatformOutput[];
    for (const p of platforms) expect(seen.manifests.find((m) => platformOf(m) === p.platform)?.digest).toBe(p.digest);
  });

  it('two digests of one platform are refused, naming both, and nothing is tagged', async () => {
    const again = await build({
      image: `${registry}/${repository}`,
      platforms: 'linux/amd64',
      'push-by-digest': 'true',
      'build-args': `BASE=${base}\nAPP_VERSION=${run}-again`,
    });
    expect(again.outputs.digest).not.toBe(amd.outputs.digest);
    const twice = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, digests: `${amd.outputs.digest},${again.outputs.digest}` },
      await loadEvent('push-default-branch'),
    );
    expect(twice.exitCode).toBe(1);
    expect(twice.log).toContain(
      `::error::merge: ${amd.outputs.digest} and ${again.outputs.digest} both hold linux/amd64`,
    );
    // The tags still point at the earlier merge: nothing was tagged.
    expect(await tagDigest(repository, 'trunk')).toBe(merged.outputs.digest);
  }, 120_000);
});

describe('the registry cache on a fresh builder, as the next CI job has', () => {
  const dir = mkdtempSync(join(process.env.TMPDIR ?? '/tmp', 'buildkitd-'));
  const fresh = `${run}-fresh`;
  let daemon: ReturnType<typeof spawn> | undefined;

  beforeAll(async () => {
    const buildkitd = process.env.DEPLOY_SUITE_BUILDKITD!;
    const config = join(process.env.DEPLOY_SUITE_RUN!, 'buildkit', 'buildkitd.toml');
    daemon = spawn(buildkitd, ['--config', config, '--root', join(dir, 'root'), '--addr', `unix://${dir}/sock`], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100 && !existsSync(join(dir, 'sock')); i++) await new Promise((r) => setTimeout(r, 100));
    const created = spawnSync(
      'docker',
      ['buildx', 'create', '--name', fresh, '--driver', 'remote', `unix://${dir}/sock`],
      {
        encoding: 'utf8',
      },
    );
    expect(created.status).toBe(0);
  }, 60_000);

  afterAll(async () => {
    spawnSync('docker', ['buildx', 'rm', fresh]);
    daemon?.kill('SIGTERM');
    await new Promise((r) => daemon?.once('exit', r) ?? r(undefined));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a second run on another BuildKit restores every step from the registry cache', async () => {
    const repository = `${run}/cached`;
    const cache = `${registry}/${repository}:buildcache`;
    const inputs = {
      image: `${registry}/${repository}`,
      'build-args': `BASE=${base}\nAPP_VERSION=${run}-cache`,
      platforms: 'linux/amd64',
      'cache-from': `type=registry,ref=${cache}`,
      'cache-to': `type=registry,ref=${cache},mode=max`,
    };
    const first = await build(inputs);
    expect(first.exitCode).toBe(0);
    expect(first.outputs['cached-steps']).toBe('0/2');
    const second = await build({ ...inputs, builder: fresh });
    expect(second.exitCode).toBe(0);
    expect(second.summary).toContain(`${fresh} (remote driver`);
    expect(second.outputs['cached-steps']).toBe('2/2');
  }, 300_000);

  it('a local cache folder (what actions/cache would keep) is exported by one builder and restored by the other', async () => {
    const folder = join(dir, 'cache');
    const inputs = {
      image: `${registry}/${run}/cached-local`,
      'build-args': `BASE=${base}\nAPP_VERSION=${run}-local-cache`,
      platforms: 'linux/amd64',
    };
    const first = await build({ ...inputs, 'cache-to': `type=local,dest=${folder},mode=max` });
    expect(first.exitCode).toBe(0);
    expect(first.outputs['cached-steps']).toBe('0/2');
    expect(existsSync(join(folder, 'index.json'))).toBe(true);
    const second = await build({ ...inputs, builder: fresh, 'cache-from': `type=local,src=${folder}` });
    expect(second.exitCode).toBe(0);
    expect(second.outputs['cached-steps']).toBe('2/2');
  }, 300_000);

  // What docker/build-push-action users write most: cache-from/cache-to type=gha, the URLs and the job's
  // token taken from the runner's variables (buildx reads them; toolEnvironment alone would drop them).
  it.each([
    ['v2', 'github.com'],
    ['v1', 'GHES'],
  ] as const)(
    'the GitHub Actions cache (service %s, as on %s) from the runner’s variables: one builder exports it, the other restores every step',
    async (service, _host) => {
      const cache = await startGhaCache();
      try {
        const env: Record<string, string> = {
          ACTIONS_RUNTIME_TOKEN: cache.token,
          ACTIONS_CACHE_URL: cache.url,
          ...(service === 'v2' ? { ACTIONS_RESULTS_URL: cache.url, ACTIONS_CACHE_SERVICE_V2: 'True' } : {}),
        };
        const inputs = {
          image: `${registry}/${run}/cached-gha-${service}`,
          'build-args': `BASE=${base}\nAPP_VERSION=${run}-gha-${service}`,
          platforms: 'linux/amd64',
          'cache-from': 'type=gha,scope=app',
        };
        const first = await build({ ...inputs, 'cache-to': 'type=gha,scope=app,mode=max' }, undefined, env);
        expect(first.exitCode).toBe(0);
        expect(first.outputs['cached-steps']).toBe('0/2');
        expect(first.log).not.toMatch(/cache type=gha skipped|cache export failed/);
        // The token reaches buildx by its environment: the log has it only in the runner's mask commands.
        expect(first.log.split('\n').filter((l) => l.includes(cache.token))).toEqual([`::add-mask::${cache.token}`]);
        expect(cache.keys()).toEqual(
          expect.arrayContaining([
            expect.stringMatching(/^index-app-1-.+#1$/),
            expect.stringMatching(/^buildkit-blob-1-sha256:[0-9a-f]{64}$/),
          ]),
        );
        const calls = cache.seen.filter((r) => r.service !== 'blob');
        expect(calls.length).toBeGreaterThan(0);
        expect(new Set(calls.map((r) => r.service))).toEqual(new Set([service]));
        expect(calls.every((r) => r.authorization === `Bearer ${cache.token}`)).toBe(true);

        const exported = cache.seen.length;
        const second = await build({ ...inputs, builder: fresh }, undefined, env);
        expect(second.exitCode).toBe(0);
        expect(second.outputs['cached-steps']).toBe('2/2');
        // The fresh builder read the index and the blobs from the service, and wrote nothing.
        const restored = cache.seen.slice(exported);
        expect(restored.some((r) => r.service === 'blob' && r.method === 'GET')).toBe(true);
        expect(restored.some((r) => r.method === 'PUT' || r.method === 'PATCH')).toBe(false);
      } finally {
        await cache.close();
      }
    },
    400_000,
  );

  it('type=gha without the runner’s token: a warning says so and the build runs without it', async () => {
    const result = await build({
      image: `${registry}/${run}/gha-no-token`,
      platforms: 'linux/amd64',
      'cache-from': 'type=gha',
      'cache-to': 'type=gha,mode=max',
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.digest).toMatch(/^sha256:/);
    expect(result.log).toMatch(/::warning::cache type=gha skipped: .*no ACTIONS_RUNTIME_TOKEN/);
  }, 240_000);

  it('a cache export that fails warns and the build still pushes', async () => {
    const result = await build({
      image: `${registry}/${run}/cache-fails`,
      platforms: 'linux/amd64',
      'cache-to': 'type=registry,ref=127.0.0.1:1/nowhere:cache',
    });
    expect(result.exitCode).toBe(0);
    expect(result.outputs.digest).toMatch(/^sha256:/);
    expect(result.log).toMatch(
      /::warning::cache export failed, the image was still pushed .*exporting cache to registry: .*127\.0\.0\.1:1.*connection refused/,
    );
    expect(result.summary).toContain('export failed: exporting cache to registry');
  }, 240_000);
});

describe('what the builder cannot do is said before the build', () => {
  it('provenance on the classic docker driver is an input error naming the BuildKit it needs', async () => {
    const result = await runAction(
      'build-image',
      { image: `${registry}/${run}/classic`, context, provenance: 'mode=max' },
      await loadEvent('push-default-branch'),
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(
      /::error title=input 'provenance'::.*the docker driver \(without the containerd image store\) cannot make provenance and SBOM attestations/,
    );
    expect(result.log).not.toContain('[command]docker buildx build');
  }, 60_000);

  it('an index annotation on a single manifest is an input error, not BuildKit refusing at export', async () => {
    const result = await build({
      image: `${registry}/${run}/no-index`,
      platforms: 'linux/amd64',
      provenance: 'false',
      annotations: 'index:org.opencontainers.image.description=x',
    });
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(
      /::error title=input 'annotations'::.*index:org.opencontainers.image.description annotate an index/,
    );
    expect(result.log).not.toContain('[command]docker buildx build');
  }, 60_000);
});
