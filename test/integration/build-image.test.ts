// build-image, bundled, run as the runner runs it (Node 24, INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY)
// against the local platform's real docker engine, buildx and registries.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEvent, repoRoot, runAction, type ActionRun } from '../support/action-runner.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { startGitHubApi } from '../support/github-api-double.js';
import { imageConfig, listTags, registryHost, tagDigest } from '../support/registry-api.js';

const run = `r${randomBytes(4).toString('hex')}`;
const registry = registryHost();
const context = 'test/fixtures/app';

/** The runner swallows ::add-mask:: commands; what remains is what a user would see. */
function withoutMasks(log: string): string {
  return log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

async function expectTagsResolveTo(repository: string, tags: string[], digest: string): Promise<void> {
  for (const reference of tags) {
    const tag = reference.slice(reference.lastIndexOf(':') + 1);
    expect(await tagDigest(repository, tag)).toBe(digest);
  }
}

describe('build-image on the local platform', () => {
  const repository = `${run}/shop-api`;
  let first: ActionRun;

  beforeAll(async () => {
    first = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context, 'build-args': `APP_VERSION=${run}` },
      await loadEvent('push-default-branch'),
    );
  }, 180_000);

  it('builds, pushes every tag, and outputs the digest', async () => {
    expect(first.exitCode).toBe(0);
    const { digest, image, tags, version } = first.outputs;
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(image).toBe(`${registry}/${repository}@${digest}`);
    expect(tags!.split('\n')).toEqual([
      `${registry}/${repository}:trunk`,
      `${registry}/${repository}:latest`,
      `${registry}/${repository}:sha-8f3c2a1`,
    ]);
    expect(version).toBe('trunk');
    await expectTagsResolveTo(repository, tags!.split('\n'), digest!);
    expect((await listTags(repository)).sort()).toEqual(['latest', 'sha-8f3c2a1', 'trunk']);
  }, 120_000);

  it('sets the OCI labels, and the image runs as the Dockerfile user', async () => {
    const config = await imageConfig(repository, first.outputs.digest!);
    expect(config.config.User).toBe('10001');
    expect(config.config.Labels).toMatchObject({
      'org.opencontainers.image.source': 'https://github.com/acme/shop-api',
      'org.opencontainers.image.revision': '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
      'org.opencontainers.image.version': 'trunk',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.title': 'shop-api',
    });
    expect(first.outputs.labels).toContain('org.opencontainers.image.created=');
  });

  it('logs in groups and writes a job summary with the digest, tags, size and timings', () => {
    expect(first.log).toContain('::group::build');
    expect(first.log).toContain('::endgroup::');
    expect(first.summary).toContain(first.outputs.digest!);
    expect(first.summary).toContain(':sha-8f3c2a1');
    expect(first.summary).toMatch(/<td>linux\/amd64<\/td><td><code>sha256:[a-f0-9]{64}<\/code><\/td><td>[0-9.]+ MiB/);
    expect(first.summary).toMatch(/build [0-9.]+ s/);
    expect(JSON.parse(first.outputs.timings!)).toHaveProperty('build');
    expect(Number(first.outputs.size)).toBeGreaterThan(1_000_000);
  });

  it('a second run with no change reuses the cache', async () => {
    expect(first.outputs['cached-steps']).toBe('0/2');
    const second = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context, 'build-args': `APP_VERSION=${run}` },
      await loadEvent('push-default-branch'),
    );
    expect(second.exitCode).toBe(0);
    expect(second.outputs['cached-steps']).toBe('2/2');
    await expectTagsResolveTo(repository, second.outputs.tags!.split('\n'), second.outputs.digest!);
  }, 120_000);
});

describe('build-image events', () => {
  it('a pull request is tagged pr-N and sha of its head commit, and labelled with that commit', async () => {
    const repository = `${run}/pr`;
    const result = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context },
      await loadEvent('pull-request'),
    );
    expect(result.exitCode).toBe(0);
    expect((await listTags(repository)).sort()).toEqual(['pr-42', 'sha-1a2b3c4']);
    const config = await imageConfig(repository, result.outputs.digest!);
    expect(config.config.Labels?.['org.opencontainers.image.revision']).toBe(
      '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
    );
  }, 120_000);

  it('a tag v1.2.3 gives 1.2.3, 1.2, sha and latest, all on one digest', async () => {
    const repository = `${run}/release`;
    const result = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context },
      await loadEvent('push-tag'),
    );
    expect(result.exitCode).toBe(0);
    expect(result.outputs.version).toBe('1.2.3');
    expect((await listTags(repository)).sort()).toEqual(['1.2', '1.2.3', 'latest', 'sha-8f3c2a1']);
    await expectTagsResolveTo(repository, result.outputs.tags!.split('\n'), result.outputs.digest!);
  }, 120_000);

  it('reads the default branch from the GitHub API when the payload has no repository', async () => {
    const repository = `${run}/dispatch`;
    const token = `ghs_${randomBytes(12).toString('hex')}`;
    const api = await startGitHubApi({
      'GET /repos/acme/shop-api': JSON.parse(
        readFileSync(join(repoRoot, 'test/fixtures/github-api/repos-get.json'), 'utf8'),
      ),
    });
    try {
      const result = await runAction(
        'build-image',
        { image: `${registry}/${repository}`, context, 'github-token': token },
        await loadEvent('workflow-dispatch-no-repository'),
        { GITHUB_API_URL: api.url },
      );
      expect(result.exitCode).toBe(0);
      expect(api.requests).toEqual([{ method: 'GET', url: '/repos/acme/shop-api', authorization: `Bearer ${token}` }]);
      expect((await listTags(repository)).sort()).toEqual(['latest', 'sha-8f3c2a1', 'trunk']);
      expect(withoutMasks(result.log)).not.toContain(token);
    } finally {
      await api.close();
    }
  }, 120_000);
});

describe('build-image gates and failures', () => {
  it('warns when the image runs as root', async () => {
    const repository = `${run}/root-warn`;
    const result = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context, 'build-args': 'USER_ID=0' },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(0);
    expect(result.log).toMatch(/::warning::the image runs as root/);
  }, 120_000);

  it('require-non-root refuses a root image before anything is pushed', async () => {
    const repository = `${run}/root-fail`;
    const result = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context, 'build-args': 'USER_ID=0', 'require-non-root': 'true' },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(/::error::verify: the image runs as root .*nothing was pushed.*Fix: add `USER/);
    expect(await listTags(repository)).toEqual([]);
    expect(result.outputs.digest).toBeUndefined();
  }, 120_000);

  it('require-non-root passes a non-root image and pushes it', async () => {
    const repository = `${run}/nonroot`;
    const result = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context, 'require-non-root': 'true' },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(0);
    await expectTagsResolveTo(repository, result.outputs.tags!.split('\n'), result.outputs.digest!);
  }, 120_000);

  it('bad input fails before anything is built, naming each input', async () => {
    const repository = `${run}/bad`;
    const result = await runAction(
      'build-image',
      {
        image: `${registry}/${repository}`,
        context,
        file: 'test/fixtures/app/Nope.Dockerfile',
        tags: 'type=ref,event=commit',
      },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toContain("title=input 'file'");
    expect(result.log).toContain("title=input 'tags'");
    expect(result.log).not.toContain('[command]docker');
    expect(await listTags(repository)).toEqual([]);
  }, 60_000);

  it('a failing Dockerfile step fails the build phase with the error, and pushes nothing', async () => {
    const repository = `${run}/broken`;
    const result = await runAction(
      'build-image',
      {
        image: `${registry}/${repository}`,
        context,
        target: 'base',
        'build-args': 'BASE=deploy-suite/no-such-base:none',
      },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(/::error::build: docker buildx build exited 1/);
    expect(await listTags(repository)).toEqual([]);
  }, 120_000);
});

describe('build-image options', () => {
  it('passes build secrets to RUN --mount=type=secret, masks them, and removes their files', async () => {
    const repository = `${run}/secret`;
    const secret = `tok-${randomBytes(10).toString('hex')}`;
    const before = readdirSync(tmpdir()).filter((d) => d.startsWith('deploy-suite-build-')).length;
    const result = await runAction(
      'build-image',
      {
        image: `${registry}/${repository}`,
        context,
        target: 'with-secret',
        secrets: `app_token=${secret}`,
        'build-args': `APP_VERSION=${run}-secret`,
      },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(0);
    expect(withoutMasks(result.log)).not.toContain(secret);
    expect(result.log).toContain(`::add-mask::${secret}`);
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith('deploy-suite-build-')).length).toBe(before);
    // Without the secret the same step fails: the secret is what made it pass.
    const without = await runAction(
      'build-image',
      {
        image: `${registry}/${repository}-none`,
        context,
        target: 'with-secret',
        'build-args': `APP_VERSION=${run}-nosecret`,
      },
      await loadEvent('push-feature-branch'),
    );
    expect(without.exitCode).toBe(1);
    expect(without.log).toMatch(/::error::build: docker buildx build exited 1/);
  }, 120_000);

  it('a cache export the docker driver cannot do warns and the build still pushes', async () => {
    const repository = `${run}/cache`;
    const result = await runAction(
      'build-image',
      {
        image: `${registry}/${repository}`,
        context,
        'cache-to': `type=registry,ref=${registry}/${repository}:buildcache\ntype=inline`,
        'cache-from': `type=registry,ref=${registry}/${repository}:buildcache`,
      },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(0);
    expect(result.log).toMatch(
      /::warning::cache-to 'type=registry.*' skipped: the docker driver \(without the containerd image store\) cannot export cache other than inline/,
    );
    await expectTagsResolveTo(repository, result.outputs.tags!.split('\n'), result.outputs.digest!);
  }, 120_000);

  it('push: false with load: true gives the local image id as image-id, no digest or image, and pushes nothing', async () => {
    const repository = `${run}/local`;
    const result = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context, push: 'false', load: 'true' },
      await loadEvent('pull-request'),
    );
    expect(result.exitCode).toBe(0);
    expect(result.outputs['image-id']).toMatch(/^sha256:[a-f0-9]{64}$/);
    // Nothing in the registry has a digest, so nothing downstream can be handed a name@digest that is not there.
    expect(result.outputs.digest).toBe('');
    expect(result.outputs.image).toBe('');
    expect(result.log).toContain('::notice::push is false: nothing was pushed, so digest and image are empty');
    expect(await listTags(repository)).toEqual([]);
    const inspect = spawnSync(
      'docker',
      ['image', 'inspect', '--format', '{{.Id}}', `${registry}/${repository}:pr-42`],
      { encoding: 'utf8' },
    );
    expect(inspect.stdout.trim()).toBe(result.outputs['image-id']);
    expect(result.summary).toContain('<td>Pushed</td><td>no</td>');
  }, 120_000);

  it('push: false and load: false is a build check: nothing pushed, every image output empty, said so', async () => {
    const repository = `${run}/check`;
    const result = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context, push: 'false', load: 'false' },
      await loadEvent('pull-request'),
    );
    expect(result.exitCode).toBe(0);
    expect(result.outputs.digest).toBe('');
    expect(result.outputs.image).toBe('');
    expect(result.log).toMatch(/::notice::push is false: nothing was pushed|::notice::push and load are false/);
    expect(await listTags(repository)).toEqual([]);
  }, 120_000);

  it('several platforms on the docker driver fail before building, with the fix', async () => {
    const repository = `${run}/multi`;
    const result = await runAction(
      'build-image',
      { image: `${registry}/${repository}`, context, platforms: 'linux/amd64,linux/arm64' },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(
      /::error::build: builder 'default' \(docker driver\) cannot do what the inputs ask:%0A {2}platforms linux\/amd64, linux\/arm64: the docker driver \(without the containerd image store\) cannot build several platforms at once.*Fix: create a docker-container builder/,
    );
    expect(result.log).not.toContain('[command]docker buildx build');
    expect(await listTags(repository)).toEqual([]);
  }, 60_000);
});

describe('build-image and the registry', () => {
  it('retries a push the registry fails transiently', async () => {
    const proxy = new FaultProxy(registry);
    const via = await proxy.start();
    proxy.faults.push({ method: 'PUT', path: /\/manifests\//, times: 1, status: 503 });
    try {
      const repository = `${run}/flaky`;
      const result = await runAction(
        'build-image',
        { image: `${via}/${repository}`, context },
        await loadEvent('push-feature-branch'),
      );
      if (result.exitCode !== 0)
        console.log(
          result.log
            .split('\n')
            .filter((l) => !/^#\d+ pushing layer/.test(l))
            .join('\n')
            .slice(-4000),
        );
      expect(result.exitCode).toBe(0);
      expect(proxy.injected).toHaveLength(1);
      expect(result.log).toMatch(/::warning::push failed transiently \(attempt 1\)/);
      expect(result.summary).toContain('Push attempts');
      await expectTagsResolveTo(repository, result.outputs.tags!.split('\n'), result.outputs.digest!);
    } finally {
      await proxy.stop();
    }
  }, 180_000);

  it('logs in with a password from stdin, masks it, and leaves no credential behind', async () => {
    const authRegistry = process.env.DEPLOY_SUITE_AUTH_REGISTRY!;
    const password = readFileSync(process.env.DEPLOY_SUITE_AUTH_REGISTRY_PASSWORD_FILE!, 'utf8').trim();
    const repository = `${run}/private`;
    const result = await runAction(
      'build-image',
      {
        image: `${authRegistry}/${repository}`,
        context,
        username: process.env.DEPLOY_SUITE_AUTH_REGISTRY_USER!,
        password,
      },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`::add-mask::${password}`);
    expect(withoutMasks(result.log)).not.toContain(password);
    expect(result.log).not.toContain(
      Buffer.from(`${process.env.DEPLOY_SUITE_AUTH_REGISTRY_USER}:${password}`).toString('base64'),
    );
    // The registry holds the tags (read with the credentials, as an outside client would).
    const auth = `Basic ${Buffer.from(`${process.env.DEPLOY_SUITE_AUTH_REGISTRY_USER}:${password}`).toString('base64')}`;
    const listed = (await (
      await fetch(`http://${authRegistry}/v2/${repository}/tags/list`, { headers: { authorization: auth } })
    ).json()) as { tags: string[] };
    expect(listed.tags.sort()).toEqual(['feature-cart-v2', 'sha-8f3c2a1']);
    // No credential was written to the user's docker config.
    const configPath = join(process.env.DOCKER_CONFIG || join(process.env.HOME!, '.docker'), 'config.json');
    let config = '';
    try {
      config = readFileSync(configPath, 'utf8');
    } catch {
      // no config at all: nothing written
    }
    expect(config).not.toContain(authRegistry);
  }, 120_000);

  it('a wrong password fails the login phase with the fix, and pushes nothing', async () => {
    const authRegistry = process.env.DEPLOY_SUITE_AUTH_REGISTRY!;
    const result = await runAction(
      'build-image',
      { image: `${authRegistry}/${run}/denied`, context, username: 'ci-bot', password: 'wrong-password-123' },
      await loadEvent('push-feature-branch'),
    );
    expect(result.exitCode).toBe(1);
    expect(result.log).toMatch(/::error::login: docker login to .* failed.*Fix: check 'username' and 'password'/s);
    expect(result.log).not.toContain('[command]docker buildx');
  }, 60_000);
});
