// The test app as a user's service on the real node (test/platform/realnode.sh), shared by the real-node
// tests and the traffic bench: its image built by build-image, the pod spec a user writes for that node,
// and reading which release the live ClusterIP answers — on a new connection each time, since a
// kept-alive one stays with the pod it was opened to whatever the Service selects now (conntrack).
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import type { KubeClient } from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction } from './action-runner.js';
import { registryHost } from './registry-api.js';

export interface RealApp {
  /** The build context: the fixture's Dockerfile and the platform's app server. */
  context: string;
  /** The Deployment template bluegreen-deploy takes (`deployment-template`): the fixture's deployment.yaml. */
  template: string;
}

/** Lays out the build context and the template under .tmp for one run. */
export function prepareRealApp(run: string): RealApp {
  const context = join(repoRoot, '.tmp', `real-app-${run}`);
  mkdirSync(context, { recursive: true });
  cpSync(join(repoRoot, 'test/fixtures/real-app'), context, { recursive: true });
  copyFileSync(process.env.DEPLOY_SUITE_APP_SERVER!, join(context, 'server'));
  return { context, template: join(context, 'deployment.yaml') };
}

/**
 * Builds and pushes one release of the app with build-image (`mode`: good, errors, slow, crash,
 * unready); the image by digest.
 */
export async function buildRealApp(app: RealApp, repository: string, version: string, mode = 'good'): Promise<string> {
  const result = await runAction(
    'build-image',
    {
      image: `${registryHost()}/${repository}`,
      context: app.context,
      'build-args': `APP_VERSION=${version}\nAPP_MODE=${mode}\nBASE=${process.env.DEPLOY_SUITE_BASE_IMAGE}`,
      tags: `type=raw,value=${version}`,
      'require-non-root': 'true',
    },
    await loadEvent('push-default-branch'),
  );
  if (result.exitCode !== 0) throw new Error(`build-image failed:\n${result.log}`);
  return result.outputs.image!;
}

/** `http://<the live Service's ClusterIP><path>`. */
export async function serviceUrl(
  client: KubeClient,
  namespace: string,
  service: string,
  path: string,
): Promise<string> {
  const found = await client.get('v1', 'Service', namespace, service);
  return `http://${(found?.spec as { clusterIP: string }).clusterIP}${path}`;
}

/** One GET on a connection of its own; the body of a 200, an error otherwise. */
export function getOnce(url: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: timeoutMs }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () =>
        response.statusCode === 200 ? resolve(body) : reject(new Error(`${response.statusCode}`)),
      );
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

export interface VersionAnswer {
  version: string;
  uid: number;
}

/**
 * Polls `/version` (every 50 ms, at most `timeoutMs`) until it answers `expected`; the last answer and
 * how long it took. kube-proxy programs a new or switched Service within its sync period (1 s here).
 */
export async function awaitVersion(
  versionUrl: string,
  expected: string,
  timeoutMs = 10_000,
): Promise<VersionAnswer & { afterMs: number }> {
  const started = performance.now();
  let last: VersionAnswer = { version: '', uid: -1 };
  while (performance.now() - started < timeoutMs) {
    try {
      last = JSON.parse(await getOnce(versionUrl)) as VersionAnswer;
      if (last.version === expected) break;
    } catch {
      // not programmed yet: no answer
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ...last, afterMs: performance.now() - started };
}

/**
 * Watches which release `/version` answers, every 50 ms until stopped (or `limitMs`, a bound of its
 * own): when each version was first and last answered (ms on performance.now()).
 */
export function watchVersions(
  versionUrl: string,
  limitMs = 120_000,
): { stop: () => Promise<Map<string, { first: number; last: number }>> } {
  const seen = new Map<string, { first: number; last: number }>();
  const started = performance.now();
  let running = true;
  const loop = (async () => {
    while (running && performance.now() - started < limitMs) {
      try {
        const { version } = JSON.parse(await getOnce(versionUrl)) as VersionAnswer;
        const now = performance.now();
        const entry = seen.get(version);
        if (entry) entry.last = now;
        else seen.set(version, { first: now, last: now });
      } catch {
        // no answer this time: the vegeta report counts failures, this only says who answered
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return { stop: async () => ((running = false), await loop, seen) };
}
