// What the tools an action runs can see. Each action runs, as the runner runs it, with every secret it
// takes (inputs and the runner's own tokens) and fake tools on PATH that write their environment to a
// file: docker (build-image), syft (sbom-and-sign) and a docker credential helper (bluegreen-deploy and
// verify-rollback reading signatures from a registry that asks for a login). No secret value may reach one.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEvent, runAction } from '../support/action-runner.js';
import { registerSecret } from '../support/capture.js';
import { freshImage } from '../support/registry-api.js';
import { useNamespace } from '../support/namespace.js';

const namespace = `env-${randomBytes(3).toString('hex')}`;
const cluster = useNamespace(namespace);
const kubeconfig = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const fixtures = new URL('../fixtures/cosign/', import.meta.url);
const privateKey = readFileSync(new URL('cosign.key', fixtures), 'utf8');
const publicKey = readFileSync(new URL('cosign.pub', fixtures), 'utf8');
const authRegistry = process.env.DEPLOY_SUITE_AUTH_REGISTRY!;

const secret = (name: string) => {
  const value = `${name}-${randomBytes(12).toString('hex')}`;
  registerSecret(value);
  return value;
};
// The runner's tokens, as a job with id-token: write has them.
const runnerSecrets = {
  ACTIONS_RUNTIME_TOKEN: secret('runtime-token'),
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: secret('id-token-request'),
  GITHUB_TOKEN: secret('github-token-env'),
};

let bin: string;
let dumps: string;

/** A fake tool: writes its environment and arguments to a file of its own, then answers as told. */
function fakeTool(name: string, script = 'exit 1'): void {
  writeFileSync(
    join(bin, name),
    `#!/bin/sh\nenv > "${dumps}/${name}-$$.env"\necho "$@" > "${dumps}/${name}-$$.args"\ncat >/dev/null\n${script}\n`,
    { mode: 0o755 },
  );
}

/** Every environment the fake tools saw since the last call, by tool. */
function seenEnvironments(): { tool: string; env: string }[] {
  const seen = readdirSync(dumps)
    .filter((f) => f.endsWith('.env'))
    .map((f) => ({ tool: f.replace(/-\d+\.env$/, ''), env: readFileSync(join(dumps, f), 'utf8') }));
  for (const f of readdirSync(dumps)) writeFileSync(join(dumps, f), '');
  return seen.filter((s) => s.env);
}

function expectNoSecrets(seen: { tool: string; env: string }[], tools: string[], secrets: string[]): void {
  expect([...new Set(seen.map((s) => s.tool))].sort()).toEqual([...tools].sort());
  for (const { tool, env } of seen) {
    for (const value of secrets) {
      for (const line of value.split('\n').filter((l) => l.length > 8)) {
        expect({ tool, leaked: env.includes(line) ? line : undefined }).toEqual({ tool, leaked: undefined });
      }
    }
    expect({ tool, inputs: env.split('\n').filter((l) => /^(INPUT_|ACTIONS_|GITHUB_TOKEN=)/.test(l)) }).toEqual({
      tool,
      inputs: [],
    });
    // What the tool does need is still there.
    expect(env).toMatch(/^PATH=/m);
    expect(env).toMatch(/^HOME=/m);
  }
}

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'tool-env-'));
  bin = join(dir, 'bin');
  dumps = join(dir, 'dumps');
  for (const d of [bin, dumps]) mkdirSync(d);
});

const env = () => ({ ...runnerSecrets, PATH: `${bin}:${process.env.PATH}` });

describe('the environment of the tools an action runs', () => {
  it('build-image: docker login and buildx see no input, token or password; buildx gets the secret-envs variable it names', async () => {
    // login succeeds (it reads the password on stdin), the build then fails after dumping its env.
    fakeTool(
      'docker',
      'case "$1 $2" in "login "*) exit 0;; "buildx inspect") echo "Driver: docker"; exit 0;; *) exit 1;; esac',
    );
    const password = secret('registry-password');
    const buildSecret = secret('build-secret');
    const run = await runAction(
      'build-image',
      {
        image: '127.0.0.1:5000/env/app',
        username: 'bot',
        password,
        'secret-envs': 'npm_token=BUILD_SECRET_VALUE',
        context: 'test/fixtures/scan-app',
      },
      await loadEvent('push-default-branch'),
      { ...env(), BUILD_SECRET_VALUE: buildSecret, UNRELATED_SECRET: secret('unrelated') },
    );
    expect(run.exitCode).not.toBe(0);
    const seen = seenEnvironments();
    const buildx = seen.filter((s) => s.tool === 'docker' && s.env.includes('BUILD_SECRET_VALUE='));
    expect(buildx.length).toBeGreaterThan(0); // the named variable reaches buildx, and only buildx
    expectNoSecrets(
      seen.map((s) => (buildx.includes(s) ? { ...s, env: s.env.replace(`BUILD_SECRET_VALUE=${buildSecret}`, '') } : s)),
      ['docker'],
      [password, ...Object.values(runnerSecrets)],
    );
    expect(seen.some((s) => s.env.includes('UNRELATED_SECRET'))).toBe(false);
    expect(seen.find((s) => !buildx.includes(s))?.env).not.toContain(buildSecret);
  });

  it('sbom-and-sign: syft sees neither the cosign key, its password, nor the registry password', async () => {
    fakeTool('syft');
    const image = await freshImage(`${namespace}/sbom`, namespace);
    const password = 'fixture-password';
    const registryPassword = secret('registry-password');
    const run = await runAction(
      'sbom-and-sign',
      {
        image,
        syft: join(bin, 'syft'),
        scan: 'false',
        'attest-sbom': 'none',
        'cosign-private-key': privateKey,
        'cosign-password': password,
        'registry-username': 'bot',
        'registry-password': registryPassword,
      },
      await loadEvent('push-default-branch'),
      env(),
    );
    expect(run.exitCode).not.toBe(0);
    expect(run.log).toMatch(/syft could not read/);
    const seen = seenEnvironments();
    expectNoSecrets(seen, ['syft'], [privateKey, `=${password}`, registryPassword, ...Object.values(runnerSecrets)]);
    // The registry credentials reach syft the way docker keeps them: a DOCKER_CONFIG of the run's own.
    expect(seen[0]!.env).toMatch(/^DOCKER_CONFIG=/m);
  });

  it('bluegreen-deploy and verify-rollback: the credential helper sees no kubeconfig, token or key', async () => {
    fakeTool('docker-credential-fake');
    const dockerConfig = mkdtempSync(join(tmpdir(), 'tool-env-docker-'));
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ credHelpers: { [authRegistry]: 'fake' } }));
    const githubToken = secret('github-token');
    const image = (n: number) => `${authRegistry}/env/app@sha256:${String(n).repeat(64)}`;
    const deploy = await runAction(
      'bluegreen-deploy',
      { kubeconfig, namespace, app: 'envcheck', image: image(1), 'verify-key': publicKey, 'github-token': githubToken },
      await loadEvent('push-default-branch'),
      { ...env(), DOCKER_CONFIG: dockerConfig },
    );
    expect(deploy.exitCode).toBe(1);
    expect(deploy.log).toMatch(/cannot read the signatures/);
    expectNoSecrets(
      seenEnvironments(),
      ['docker-credential-fake'],
      [kubeconfig, githubToken, ...Object.values(runnerSecrets)],
    );

    // Two releases live without a policy, then a rollback under one: the helper is asked again.
    for (const n of [1, 2]) {
      const run = await runAction(
        'bluegreen-deploy',
        { kubeconfig, namespace, app: 'envcheck', replicas: '1', image: image(n) },
        await loadEvent('push-default-branch'),
      );
      expect(run.exitCode).toBe(0);
    }
    const rollback = await runAction(
      'verify-rollback',
      {
        kubeconfig,
        namespace,
        app: 'envcheck',
        'rollback-to': 'previous',
        'verify-key': publicKey,
        'github-token': githubToken,
      },
      await loadEvent('workflow-dispatch'),
      { ...env(), DOCKER_CONFIG: dockerConfig },
    );
    expect(rollback.exitCode).toBe(1);
    expect(rollback.log).toMatch(/cannot read the signatures .*Nothing was rolled back/);
    expectNoSecrets(
      seenEnvironments(),
      ['docker-credential-fake'],
      [kubeconfig, githubToken, ...Object.values(runnerSecrets)],
    );
    expect(
      (await cluster().get('v1', 'Service', namespace, 'envcheck'))?.metadata.annotations?.[
        'deploy-suite.dev/live-digest'
      ],
    ).toBe(image(2).split('@')[1]);
  });
});
