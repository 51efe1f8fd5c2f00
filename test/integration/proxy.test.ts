// A proxy-only runner: HTTPS_PROXY/HTTP_PROXY name the platform's squid, and every target has a name
// under .proxied.test that only squid resolves (its own hosts file), so a request that arrives went
// through the proxy, and one that went direct fails with ENOTFOUND. Squid's access log is asserted: the
// Kubernetes API (with tls-server-name, as a private endpoint), GitHub's REST API, an HTTP probe,
// Prometheus and the registry client each appear in it; NO_PROXY sends the host it names direct.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeAgents } from '@deploy-suite/action-kit';
import { RegistryClient, parseReference } from '@deploy-suite/oci';
import { loadEvent, runAction } from '../support/action-runner.js';
import { startGitHubApi } from '../support/github-api-double.js';
import { freshImage } from '../support/registry-api.js';
import { startReleasesHost } from '../support/releases-host.js';
import { startOidcTokenService, startSigstoreDoubles } from '../support/sigstore-doubles.js';

const admin = process.env.DEPLOY_SUITE_KUBECONFIG!;
const proxy = process.env.DEPLOY_SUITE_PROXY!;
const accessLog = process.env.DEPLOY_SUITE_PROXY_LOG!;
const namespace = `proxy-${randomBytes(3).toString('hex')}`;
const proxyEnv = { HTTPS_PROXY: proxy, HTTP_PROXY: proxy };
const image = (n: number) => `127.0.0.1:5000/shop/api@sha256:${String(n).repeat(64)}`;
let kubeconfig = '';
let health: Server;
let healthPort = 0;

function kubectl(args: string[]): string {
  const result = spawnSync('kubectl', ['--kubeconfig', admin, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The access log lines written while `run` ran. */
async function logged<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const before = readFileSync(accessLog, 'utf8').length;
  const result = await run();
  // squid writes its access log line when the tunnel closes: give the last one a moment.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return { result, lines: readFileSync(accessLog, 'utf8').slice(before).split('\n').filter(Boolean) };
}

beforeAll(async () => {
  kubectl(['create', 'namespace', namespace]);
  // The admin kubeconfig, its API server named kube.proxied.test; its certificate names localhost.
  kubeconfig = readFileSync(admin, 'utf8').replace(
    /server: https:\/\/127\.0\.0\.1:(\d+)/,
    'server: https://kube.proxied.test:$1\n    tls-server-name: localhost',
  );
  expect(kubeconfig).toContain('kube.proxied.test');
  health = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  healthPort = (health.address() as AddressInfo).port;
});

afterAll(async () => {
  kubectl(['delete', 'namespace', namespace, '--wait=false']);
  health.closeAllConnections();
  await new Promise((resolve) => health.close(resolve));
});

describe('through a forward proxy only', () => {
  it('a deploy reaches the API server and GitHub through the proxy; NO_PROXY sends GitHub direct', async () => {
    const routes = {
      'POST /repos/acme/shop-api/deployments': { id: 77, environment: 'production' },
      'POST /repos/acme/shop-api/deployments/77/statuses': { id: 1, state: 'success' },
    };
    const api = await startGitHubApi(routes);
    const apiUrl = api.url.replace('127.0.0.1', 'github.proxied.test');
    const githubHost = new URL(apiUrl).host;
    try {
      const inputs = { kubeconfig, namespace, app: 'web', replicas: '2', environment: 'production' };
      const event = await loadEvent('push-default-branch');
      const { result: run, lines } = await logged(() =>
        runAction('bluegreen-deploy', { ...inputs, image: image(1) }, event, { ...proxyEnv, GITHUB_API_URL: apiUrl }),
      );
      expect(run.exitCode).toBe(0);
      expect(run.log).not.toMatch(/::warning::could not/);
      expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        'POST /repos/acme/shop-api/deployments',
        'POST /repos/acme/shop-api/deployments/77/statuses',
        'POST /repos/acme/shop-api/deployments/77/statuses',
      ]);
      expect(lines.some((line) => line.includes('CONNECT kube.proxied.test:'))).toBe(true);
      expect(lines.some((line) => line.includes(githubHost))).toBe(true);

      // NO_PROXY names GitHub's host: it goes direct, where nothing resolves it. The deploy goes on, and
      // the warning tells the real cause (no DNS answer), not the permissions.
      api.requests.length = 0;
      const direct = await logged(() =>
        runAction('bluegreen-deploy', { ...inputs, image: image(2) }, event, {
          ...proxyEnv,
          NO_PROXY: 'github.proxied.test',
          GITHUB_API_URL: apiUrl,
        }),
      );
      expect(direct.result.exitCode).toBe(0);
      expect(direct.result.log).toMatch(
        /::warning::could not create a GitHub deployment .*ENOTFOUND.*Fix: check that http:\/\/github\.proxied\.test:\d+ is reachable/,
      );
      expect(api.requests).toEqual([]);
      expect(direct.lines.some((line) => line.includes('CONNECT kube.proxied.test:'))).toBe(true);
      expect(direct.lines.some((line) => line.includes(githubHost))).toBe(false);
    } finally {
      await api.close();
    }
  });

  it('verify-rollback probes the app and queries Prometheus through the proxy', async () => {
    const prometheus = new URL(process.env.DEPLOY_SUITE_PROMETHEUS!);
    const { result: run, lines } = await logged(async () =>
      runAction(
        'verify-rollback',
        {
          kubeconfig,
          namespace,
          app: 'web',
          'http-url': `http://app.proxied.test:${healthPort}/healthz`,
          'http-checks': '2',
          'http-interval': '1s',
          'prometheus-url': `http://metrics.proxied.test:${prometheus.port}`,
          queries: 'scrapes: count(up) >= 1',
          'metrics-checks': '1',
          'metrics-interval': '1s',
        },
        await loadEvent('workflow-dispatch'),
        proxyEnv,
      ),
    );
    expect(run.log).not.toMatch(/::error/);
    expect(run.exitCode).toBe(0);
    expect(run.outputs.verdict).toBe('passed');
    expect(lines.some((line) => line.includes(`app.proxied.test:${healthPort}`))).toBe(true);
    expect(lines.some((line) => line.includes(`metrics.proxied.test:${prometheus.port}`))).toBe(true);
    expect(lines.some((line) => line.includes('CONNECT kube.proxied.test:'))).toBe(true);
  });

  it('the registry client reads a manifest through the proxy, and loopback never goes through it', async () => {
    const saved = { http: process.env.HTTP_PROXY, no: process.env.NO_PROXY };
    process.env.HTTP_PROXY = proxy;
    delete process.env.NO_PROXY;
    try {
      // Plain HTTP to the proxied name, as a lab registry listed as insecure.
      const registry = new RegistryClient({ insecureHosts: ['registry.proxied.test:5000'] });
      const proxied = parseReference('registry.proxied.test:5000/base/debian:bookworm');
      const { lines } = await logged(async () => {
        expect(await registry.resolveDigest(proxied, 'bookworm')).toMatch(/^sha256:[0-9a-f]{64}$/);
        // The same registry by its loopback address: direct, as @actions/http-client rules it.
        const loopback = parseReference('127.0.0.1:5000/base/debian:bookworm');
        expect(await registry.resolveDigest(loopback, 'bookworm')).toMatch(/^sha256:/);
        // squid logs a tunnel when it closes; the kept-alive connection closes here.
        closeAgents();
      });
      expect(lines.some((line) => line.includes('registry.proxied.test:5000'))).toBe(true);
      expect(lines.some((line) => line.includes('127.0.0.1:5000'))).toBe(false);
    } finally {
      if (saved.http === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved.http;
      if (saved.no !== undefined) process.env.NO_PROXY = saved.no;
    }
  });

  it('keyless signing and the tool download go through the proxy: the OIDC token, Fulcio, Rekor, the syft release', async () => {
    const sigstore = await startSigstoreDoubles();
    const oidc = await startOidcTokenService({
      sub: 'https://github.com/acme/shop-api/.github/workflows/release.yml@refs/heads/main',
      repository: 'acme/shop-api',
      ref: 'refs/heads/main',
      sha: '8f3c2a1b9d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a',
      event_name: 'push',
      workflow: 'release',
    });
    const releases = await startReleasesHost([
      { name: 'syft', version: '1.57.1', binary: process.env.DEPLOY_SUITE_SYFT! },
    ]);
    const named = (url: string, name: string) => url.replace('127.0.0.1', name);
    try {
      // The image stays on the loopback registry: direct, for the suite and for syft (Go's rules agree).
      const image = await freshImage(`${namespace}/signed`, namespace);
      const { result: run, lines } = await logged(async () =>
        runAction(
          'sbom-and-sign',
          {
            image,
            signing: 'keyless',
            'fulcio-url': named(sigstore.fulcioUrl, 'sigstore.proxied.test'),
            'rekor-url': named(sigstore.rekorUrl, 'sigstore.proxied.test'),
            'syft-version': '1.57.1',
            'syft-sha256': releases.sha256('syft'),
            'tools-mirror': `${named(releases.url, 'releases.proxied.test')}/good`,
            'attest-sbom': 'cyclonedx',
            scan: 'false',
          },
          await loadEvent('push-default-branch'),
          {
            ...proxyEnv,
            ACTIONS_ID_TOKEN_REQUEST_URL: named(oidc.requestUrl, 'github.proxied.test'),
            ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
            RUNNER_TOOL_CACHE: mkdtempSync(join(tmpdir(), 'proxy-toolcache-')),
          },
        ),
      );
      expect(run.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
      expect(run.exitCode).toBe(0);
      // A token and a certificate for each signing (the signature, then the SBOM attestation), each logged.
      expect(oidc.audiences.length).toBeGreaterThanOrEqual(1);
      expect(new Set(oidc.audiences)).toEqual(new Set(['sigstore']));
      expect(sigstore.requests).toContain('POST /api/v2/signingCert');
      expect(sigstore.requests.filter((request) => request === 'POST /api/v1/log/entries')).toHaveLength(2);
      const through = (name: string, url: string) =>
        lines.some((line) => line.includes(`${name}:${new URL(url).port}`));
      expect(through('github.proxied.test', oidc.requestUrl)).toBe(true);
      expect(through('sigstore.proxied.test', sigstore.fulcioUrl)).toBe(true);
      expect(through('sigstore.proxied.test', sigstore.rekorUrl)).toBe(true);
      expect(through('releases.proxied.test', releases.url)).toBe(true);
      expect(lines.some((line) => line.includes('127.0.0.1:5000'))).toBe(false);
    } finally {
      await Promise.all([sigstore.close(), oidc.close(), releases.close()]);
    }
  }, 180_000);
});
