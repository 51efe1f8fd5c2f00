// The suite's images on the real node (test/platform/realnode.sh): the test app built by build-image
// runs as its non-root user, serves through the live Service's ClusterIP (kube-proxy's rules), and a
// blue-green switch under steady load from vegeta loses no request.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { createKubeClient, parseKubeconfig, type KubeClient } from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction } from '../support/action-runner.js';
import { registryHost } from '../support/registry-api.js';
import { attack, summarize } from '../support/vegeta.js';

const run = `r${randomBytes(3).toString('hex')}`;
const namespace = `real-${run}`;
const kubeconfig = process.env.DEPLOY_SUITE_KUBECONFIG!;
const context = join(repoRoot, '.tmp', `real-app-${run}`);
const template = join(context, 'deployment.yaml');
let client: KubeClient;

/** Builds and pushes the test app with build-image; the image by digest. */
async function buildApp(version: string, mode = 'good'): Promise<string> {
  const result = await runAction(
    'build-image',
    {
      image: `${registryHost()}/${run}/shop`,
      context,
      'build-args': `APP_VERSION=${version}\nAPP_MODE=${mode}\nBASE=${process.env.DEPLOY_SUITE_BASE_IMAGE}`,
      tags: `type=raw,value=${version}`,
      'require-non-root': 'true',
    },
    await loadEvent('push-default-branch'),
  );
  if (result.exitCode !== 0) throw new Error(`build-image failed:\n${result.log}`);
  return result.outputs.image!;
}

const deployInputs = (image: string) => ({
  kubeconfig: readFileSync(kubeconfig, 'utf8'),
  namespace,
  app: 'shop',
  image,
  replicas: '2',
  'container-port': '8080',
  'deployment-template': template,
});

async function liveUrl(path: string): Promise<string> {
  const service = await client.get('v1', 'Service', namespace, 'shop');
  return `http://${(service?.spec as { clusterIP: string }).clusterIP}${path}`;
}

function getOnce(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(url, { agent: false, timeout: 1000 }, (response) => {
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

/**
 * What the live ClusterIP answers on /version once it answers `expected` (kube-proxy programs a new or
 * switched Service within its sync period, 1 s here), polled for at most 10 s; the last answer otherwise.
 */
async function liveVersion(expected: string): Promise<{ version: string; uid: number; afterMs: number }> {
  const started = performance.now();
  const url = await liveUrl('/version');
  let last = { version: '', uid: -1 };
  while (performance.now() - started < 10_000) {
    try {
      // A new connection each time: a kept-alive one stays with the pod it was opened to, whatever the
      // Service selects now (conntrack), as every keep-alive client's does.
      const text = await getOnce(url);
      last = JSON.parse(text) as { version: string; uid: number };
      if (last.version === expected) break;
    } catch {
      // not programmed yet: no answer
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { ...last, afterMs: performance.now() - started };
}

beforeAll(async () => {
  client = createKubeClient(parseKubeconfig(readFileSync(kubeconfig, 'utf8')));
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: 'test' });
  mkdirSync(context, { recursive: true });
  cpSync(join(repoRoot, 'test/fixtures/real-app'), context, { recursive: true });
  copyFileSync(process.env.DEPLOY_SUITE_APP_SERVER!, join(context, 'server'));
  // The pod spec a user writes for the real node: it tolerates the node's taint and says when a pod is
  // ready (the app answers /healthz).
  writeFileSync(
    template,
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  template:
    spec:
      nodeSelector: {deploy-suite.dev/node: real}
      tolerations: [{key: deploy-suite.dev/real-node, operator: Exists, effect: NoSchedule}]
      containers:
      - name: app
        image: placeholder
        ports: [{containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`,
  );
}, 120_000);

afterAll(async () => {
  // DEPLOY_SUITE_KEEP_NAMESPACE=1 leaves the namespace (pods, Services) for a person to look at.
  if (!process.env.DEPLOY_SUITE_KEEP_NAMESPACE) await client.delete('v1', 'Namespace', undefined, namespace);
  client.close();
});

describe('on the real node', () => {
  let v1 = '';
  let v2 = '';

  it('the built image runs as its non-root user and serves through the live ClusterIP', async () => {
    [v1, v2] = [await buildApp('v1'), await buildApp('v2')];
    const deployed = await runAction('bluegreen-deploy', deployInputs(v1), await loadEvent('push-default-branch'));
    expect(deployed.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(deployed.exitCode).toBe(0);
    expect(await liveVersion('v1')).toMatchObject({ version: 'v1', uid: 10001 });
  }, 300_000);

  it('a switch under steady load loses no request, and /version moves to the new release', async () => {
    // A new connection per request: each one goes where kube-proxy's rules say at that moment.
    const load = attack(await liveUrl('/'), 50, 20, { keepalive: false });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const deployed = await runAction('bluegreen-deploy', deployInputs(v2), await loadEvent('push-default-branch'));
    expect(deployed.exitCode).toBe(0);
    expect(await liveVersion('v2')).toMatchObject({ version: 'v2' });
    const report = await load.done;
    expect({ codes: report.status_codes, errors: report.errors, summary: summarize(report) }).toEqual({
      codes: { '200': 1000 },
      errors: [],
      summary: expect.any(String),
    });
  }, 300_000);

  it('the rollback button under steady load: back to the previous release on the warm colour, no request lost', async () => {
    const load = attack(await liveUrl('/'), 50, 15, { keepalive: false });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const started = performance.now();
    const rolledBack = await runAction(
      'verify-rollback',
      { kubeconfig: readFileSync(kubeconfig, 'utf8'), namespace, app: 'shop', 'rollback-to': 'previous' },
      await loadEvent('workflow-dispatch'),
    );
    expect(rolledBack.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(rolledBack.exitCode).toBe(0);
    const live = await liveVersion('v1');
    expect(live).toMatchObject({ version: 'v1' });
    console.log(
      `rollback: the live ClusterIP answered v1 ${((performance.now() - started) / 1000).toFixed(2)} s after verify-rollback started`,
    );
    const report = await load.done;
    expect({ codes: report.status_codes, errors: report.errors }).toEqual({ codes: { '200': 750 }, errors: [] });
  }, 300_000);

  it('the old colour scaled down under keep-alive load: the clients move to the new colour without a failed request', async () => {
    // Keep-alive: every connection vegeta opened stays with a pod of the live colour (v1), until that
    // colour is scaled down after the switch to v2.
    const load = attack(await liveUrl('/'), 50, 20);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const deployed = await runAction(
      'bluegreen-deploy',
      { ...deployInputs(v2), 'scale-down-delay': '0s' },
      await loadEvent('push-default-branch'),
    );
    expect(deployed.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(deployed.exitCode).toBe(0);
    expect(deployed.outputs['previous-scaled-down']).toBe('true');
    expect(deployed.log).toMatch(/waiting 5 s before scaling (blue|green) down \(scale-down-delay is 0 s\)/);
    expect(await liveVersion('v2')).toMatchObject({ version: 'v2' });
    const report = await load.done;
    console.log(`scale-down under keep-alive load: ${summarize(report)}`);
    expect({ codes: report.status_codes, errors: report.errors }).toEqual({ codes: { '200': 1000 }, errors: [] });
  }, 300_000);

  // A release that cannot become ready fails with why, as kubectl describe would show it, and live
  // traffic stays on the release it had (v2).
  it.each([
    [
      'cannot pull its image',
      async () => `${registryHost()}/${run}/shop@sha256:${'0'.repeat(64)}`,
      /ErrImagePull|ImagePullBackOff/,
      /not found/,
    ],
    [
      'crashes at start',
      () => buildApp('v3-crash', 'crash'),
      /CrashLoopBackOff|exited with code 3|last exit code 3/,
      /fatal: APP_MODE=crash: this release exits at start/,
    ],
    [
      'never becomes ready',
      () => buildApp('v3-unready', 'unready'),
      /running, not ready/,
      /Readiness probe failed: HTTP probe failed with statuscode: 503/,
    ],
  ] as const)(
    'a release that %s says why, and live stays as it was',
    async (_what, image, reason, detail) => {
      const failed = await runAction(
        'bluegreen-deploy',
        { ...deployInputs(await image()), 'progress-deadline': '15s' },
        await loadEvent('push-default-branch'),
      );
      expect(failed.exitCode).not.toBe(0);
      const error = failed.log
        .split('\n')
        .filter((line) => line.startsWith('::error'))
        .join('\n')
        .replace(/%0A/g, '\n');
      expect(error).toMatch(reason);
      expect(error).toMatch(detail);
      expect(error).toContain('live traffic stays on');
      expect(await liveVersion('v2')).toMatchObject({ version: 'v2' });
    },
    300_000,
  );
});
