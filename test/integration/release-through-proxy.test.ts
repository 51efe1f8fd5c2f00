// The whole release on a proxy-only runner: the reusable release workflow under act with HTTPS_PROXY and
// HTTP_PROXY naming the platform's squid, and the API server, Prometheus and the tool releases reachable
// only by names squid alone resolves (*.proxied.test). The build, the scan and signature, the deploys and
// the analysis all pass, and squid's access log shows each of those hosts; the registry is on loopback,
// which no client proxies (@actions/http-client's rule, Go's and docker's too). A second run with NO_PROXY
// naming the API server sends it direct, where its name does not resolve.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, parseKubeconfig, type KubeClient } from '@deploy-suite/kube';
import { loadEvent, repoRoot } from '../support/action-runner.js';
import { createUserRepo, RELEASED, runAct } from '../support/act-runner.js';
import { playRelease } from '../support/metrics.js';
import { registryHost } from '../support/registry-api.js';
import { startPlatformReleases } from '../support/releases-host.js';

const run = `x${randomBytes(3).toString('hex')}`;
const admin = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const proxy = process.env.DEPLOY_SUITE_PROXY!;
const accessLog = process.env.DEPLOY_SUITE_PROXY_LOG!;
const staging = `${run}-staging`;
const production = `${run}-production`;
const artifacts = mkdtempSync(join(tmpdir(), `${run}-artifacts-`));
// The admin kubeconfig with its API server named kube.proxied.test (its certificate names localhost).
const proxiedKubeconfig = admin.replace(
  /server: https:\/\/127\.0\.0\.1:(\d+)/,
  'server: https://kube.proxied.test:$1\n    tls-server-name: localhost',
);
const prometheus = new URL(process.env.DEPLOY_SUITE_PROMETHEUS!);
let client: KubeClient;
let userRepo: string;
let releases: Awaited<ReturnType<typeof startPlatformReleases>>;

/**
 * A fresh runner's tool cache: act on the host keeps one for every run (under its cache folder), where the
 * workflow tests' runs leave these very releases; without them the tools are downloaded, through the proxy.
 */
function forgetCachedTools(): void {
  const toolCache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'act', 'tool_cache');
  for (const release of ['syft/1.57.1', 'trivy/0.74.0'])
    rmSync(join(toolCache, release), { recursive: true, force: true });
}

const logLength = () => readFileSync(accessLog, 'utf8').length;
const logSince = (offset: number) => readFileSync(accessLog, 'utf8').slice(offset).split('\n').filter(Boolean);

beforeAll(async () => {
  client = createKubeClient(parseKubeconfig(admin));
  for (const name of [staging, production])
    await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'test' });
  userRepo = await createUserRepo(mkdtempSync(join(tmpdir(), `${run}-repo-`)));
  releases = await startPlatformReleases();
  for (const name of [staging, production])
    await playRelease(name, 'shop', 'blue', { rps: 40, errorRate: 0, latencySeconds: 0.02 });
}, 120_000);

afterAll(async () => {
  for (const name of [staging, production]) await client.delete('v1', 'Namespace', undefined, name);
  client.close();
  await releases.close();
});

const vars = () => ({
  IMAGE: `${registryHost()}/${run}/shop`,
  NAMESPACE: production,
  STAGING_NAMESPACE: staging,
  TRIVY_CACHE_DIR: process.env.DEPLOY_SUITE_TRIVY_CACHE!,
  PROMETHEUS_URL: `http://metrics.proxied.test:${prometheus.port}`,
  ...releases.vars('releases.proxied.test'),
});
const secrets = () => ({
  KUBECONFIG: Buffer.from(proxiedKubeconfig).toString('base64'),
  REGISTRY_USERNAME: 'nobody',
  REGISTRY_PASSWORD: 'unused-password',
  COSIGN_PRIVATE_KEY: `"${readFileSync(join(repoRoot, 'test/fixtures/cosign/cosign.key'), 'utf8').trim().replace(/\n/g, '\\n')}"`,
  COSIGN_PASSWORD: 'fixture-password',
});

describe('the release workflow on a runner that reaches everything but loopback through a proxy', () => {
  it('builds, signs, deploys to staging and production and analyses, every remote host through the proxy', async () => {
    forgetCachedTools();
    const offset = logLength();
    const event = await loadEvent('push-default-branch');
    const result = await runAct(userRepo, {
      event: 'push',
      workflow: 'release.yml',
      payload: event.payload,
      vars: vars(),
      secrets: secrets(),
      artifacts,
      env: { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, NO_PROXY: '' },
    });
    expect(result.jobs).toMatchObject(RELEASED);
    expect(result.code).toBe(0);
    expect((await client.get('v1', 'Service', production, 'shop'))?.spec).toBeDefined();
    // squid writes a tunnel's line when it closes: the jobs have ended, so have their connections.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const lines = logSince(offset);
    const seen = (host: string) => lines.some((line) => line.includes(host));
    expect(seen('CONNECT kube.proxied.test:')).toBe(true); // every deploy and verify step, over TLS
    expect(seen(`metrics.proxied.test:${prometheus.port}`)).toBe(true); // the analysis
    expect(seen(`releases.proxied.test:${new URL(releases.url).port}`)).toBe(true); // syft and trivy
    expect(seen(registryHost())).toBe(false); // loopback: direct
    // GitHub's API is not reachable from here, through the proxy either: the warning says where it failed.
    expect(result.log).toMatch(
      /::warning::could not create a GitHub deployment .*the proxy http:\/\/127\.0\.0\.1:\d+ answered \d+ to CONNECT api\.github\.com.*Fix: the runner's proxy could not reach/,
    );
  }, 600_000);

  it('with NO_PROXY naming the API server, the deploy goes direct and fails on the name only the proxy knows', async () => {
    forgetCachedTools();
    const offset = logLength();
    const event = await loadEvent('pull-request');
    const result = await runAct(userRepo, {
      event: 'pull_request',
      workflow: 'pr.yml',
      payload: event.payload,
      vars: { ...vars(), NAMESPACE: staging },
      secrets: secrets(),
      artifacts,
      env: { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, NO_PROXY: 'kube.proxied.test' },
    });
    expect(result.jobs).toEqual({ 'check/pr-check/check': 'failure' });
    expect(result.log).toMatch(/ENOTFOUND kube\.proxied\.test|kube\.proxied\.test.*ENOTFOUND/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const lines = logSince(offset);
    expect(lines.some((line) => line.includes('kube.proxied.test'))).toBe(false);
    // The tools still came through it: NO_PROXY named one host only.
    expect(lines.some((line) => line.includes('releases.proxied.test'))).toBe(true);
  }, 600_000);
});
