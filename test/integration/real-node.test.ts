// The suite's images on the real node (test/platform/realnode.sh): the test app built by build-image
// runs as its non-root user, serves through the live Service's ClusterIP (kube-proxy's rules), a
// blue-green switch, the rollback button and the old colour's scale-down under steady load from vegeta
// lose no request, and a bad release's real 5xx, scraped by Prometheus from its pods, rolls it back.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createKubeClient, parseKubeconfig, type KubeClient } from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction } from '../support/action-runner.js';
import { registryHost } from '../support/registry-api.js';
import {
  awaitVersion,
  buildRealApp,
  getOnce,
  prepareRealApp,
  serviceUrl,
  watchVersions,
  type RealApp,
} from '../support/real-app.js';
import { attack, summarize } from '../support/vegeta.js';

const run = `r${randomBytes(3).toString('hex')}`;
const namespace = `real-${run}`;
const kubeconfig = process.env.DEPLOY_SUITE_KUBECONFIG!;
let client: KubeClient;
let app: RealApp;

const buildApp = (version: string, mode = 'good') => buildRealApp(app, `${run}/shop`, version, mode);

const deployInputs = (image: string) => ({
  kubeconfig: readFileSync(kubeconfig, 'utf8'),
  namespace,
  app: 'shop',
  image,
  replicas: '2',
  'container-port': '8080',
  'deployment-template': app.template,
});

const liveUrl = (path: string) => serviceUrl(client, namespace, 'shop', path);
const liveVersion = async (expected: string) => awaitVersion(await liveUrl('/version'), expected);

beforeAll(async () => {
  client = createKubeClient(parseKubeconfig(readFileSync(kubeconfig, 'utf8')));
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: 'test' });
  app = prepareRealApp(run);
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

  it('a switch under steady load loses no request; the preview check reads the new release from its pods; /version moves', async () => {
    // A new connection per request: each one goes where kube-proxy's rules say at that moment.
    const load = attack(await liveUrl('/'), 50, 20, { keepalive: false });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // The preview check asks the new colour, through the preview Service, which release it is.
    const previewUrl = await serviceUrl(client, namespace, 'shop-preview', '/version');
    const deployed = await runAction(
      'bluegreen-deploy',
      { ...deployInputs(v2), 'preview-url': previewUrl, 'preview-body': '"version":"v2"', 'preview-interval': '1s' },
      await loadEvent('push-default-branch'),
    );
    expect(deployed.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(deployed.exitCode).toBe(0);
    expect(deployed.log).toMatch(/preview check 3\/3 \S+: ok, status 200/);
    expect(deployed.summary).toMatch(/3 of 3 checks of <code>http:\/\/[0-9.]+\/version<\/code> passed/);
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
      // The job summary says it too: where a person looks first.
      expect(failed.summary).toContain('<h3>bluegreen-deploy failed</h3>');
      expect(failed.summary).toMatch(reason);
      expect(await liveVersion('v2')).toMatchObject({ version: 'v2' });
    },
    300_000,
  );

  const analysis = {
    'prometheus-url': process.env.DEPLOY_SUITE_PROMETHEUS!,
    'error-rate-max': '0.05',
    'metrics-window': '10s',
    'metrics-checks': '5',
    'metrics-interval': '1s',
  };

  /** Deploys `image` (the deploy must succeed), then runs verify-rollback's analysis of it, as a release does. */
  async function deployAndAnalyse(image: string) {
    const deployed = await runAction('bluegreen-deploy', deployInputs(image), await loadEvent('push-default-branch'));
    expect(deployed.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(deployed.exitCode).toBe(0);
    const verified = await runAction(
      'verify-rollback',
      { kubeconfig: readFileSync(kubeconfig, 'utf8'), namespace, app: 'shop', ...analysis },
      await loadEvent('push-default-branch'),
    );
    return {
      verified,
      checks: JSON.parse(verified.outputs.measurements!) as { name: string; verdict: string; values: string[] }[],
    };
  }

  it('a good release under load: the analysis of its real pods, scraped by Prometheus, passes and it stays', async () => {
    const load = attack(await liveUrl('/'), 50, 25, { keepalive: false });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const { verified, checks } = await deployAndAnalyse(v1);
    expect(verified.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(verified.outputs).toMatchObject({ verdict: 'passed', 'rolled-back': 'false' });
    // Just switched live, the colour had no series yet: those measurements waited, uncounted.
    expect(checks.find((c) => c.name === 'error-rate')!.values.filter((v) => v.startsWith('0 '))).toHaveLength(5);
    expect(await liveVersion('v1')).toMatchObject({ version: 'v1' });
    const report = await load.done;
    expect({ codes: report.status_codes, errors: report.errors }).toEqual({ codes: { '200': 1250 }, errors: [] });
  }, 300_000);

  it('a bad release live under load: Prometheus sees its real 5xx and verify-rollback puts traffic back on the good release', async () => {
    const bad = await buildApp('v4-errors', 'errors');
    const versions = watchVersions(await liveUrl('/version'));
    const load = attack(await liveUrl('/'), 50, 30, { keepalive: false });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const { verified, checks } = await deployAndAnalyse(bad);
    expect(await liveVersion('v1')).toMatchObject({ version: 'v1' });
    const report = await load.done;
    const seen = await versions.stop();
    expect(verified.exitCode).not.toBe(0);
    expect(verified.outputs).toMatchObject({
      verdict: 'failed',
      'rolled-back': 'true',
      'live-digest': expect.any(String),
    });
    // The verdict is the error rate Prometheus read from the bad release's own pods, not missing data.
    expect(checks.find((c) => c.name === 'error-rate')).toMatchObject({ verdict: 'failed' });
    const badLive = seen.get('v4-errors');
    const back = seen.get('v1');
    expect(badLive).toBeDefined();
    expect(back!.last).toBeGreaterThan(badLive!.last);
    console.log(
      `automatic rollback on the real node: the bad release answered for ${((badLive!.last - badLive!.first) / 1000).toFixed(2)} s; ${summarize(report)}`,
    );
    // Every request was answered: the good release's 200s, the bad one's own 500s while it was live, no
    // refused or reset connection.
    expect(Object.keys(report.status_codes).sort()).toEqual(['200', '500']);
    expect(report.errors.filter((e) => !/^500 /.test(e))).toEqual([]);
  }, 300_000);
});

describe('configuration with its image, read back from the real pods', () => {
  // The app as a folder of manifests: its Deployment takes a ConfigMap as environment (envFrom) and as
  // files (a volume at /etc/app); the test app's /config answers what its process was started with.
  const manifests = (greeting: string) => {
    const dir = mkdtempSync(join(repoRoot, '.tmp', `cfg-${run}-`));
    const template = readFileSync(app.template, 'utf8')
      .replace('metadata: {name: shop}', 'metadata: {name: cfg}')
      .replace(
        '          ports: [{containerPort: 8080}]',
        '          ports: [{containerPort: 8080}]\n          envFrom: [{configMapRef: {name: cfg-settings}}]\n          volumeMounts: [{name: settings, mountPath: /etc/app}]',
      )
      .replace(
        '      containers:',
        '      volumes: [{name: settings, configMap: {name: cfg-settings}}]\n      containers:',
      );
    writeFileSync(join(dir, 'deployment.yaml'), template);
    writeFileSync(
      join(dir, 'config.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg-settings}\ndata: {SETTING_GREETING: "${greeting}", greeting: "${greeting} from a file"}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: cfg}\nspec: {ports: [{name: http, port: 80, targetPort: 8080}]}\n`,
    );
    return relative(repoRoot, dir);
  };
  /** What the live pods answer on /config, once it is `greeting` (kube-proxy follows a switch within a second). */
  const liveConfig = async (greeting: string) => {
    const url = await serviceUrl(client, namespace, 'cfg', '/config');
    let last: { env?: Record<string, string>; files?: Record<string, string> } = {};
    for (let i = 0; i < 100 && last.env?.SETTING_GREETING !== greeting; i++) {
      last = await getOnce(url).then(
        (body) => JSON.parse(body) as typeof last,
        () => last,
      );
      if (last.env?.SETTING_GREETING !== greeting) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return last;
  };
  const deployCfg = async (image: string, greeting: string) => {
    const run = await runAction(
      'bluegreen-deploy',
      { ...deployInputs(image), app: 'cfg', 'deployment-template': '', manifests: manifests(greeting) },
      await loadEvent('push-default-branch'),
    );
    expect(run.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(run.exitCode).toBe(0);
    return run;
  };

  it('a change of configuration alone is a release; a rollback to revision N-2 brings its environment and files back', async () => {
    const image = await buildApp('cfg-v1');
    expect((await deployCfg(image, 'hello')).outputs).toMatchObject({ revision: '1', change: '' });
    expect(await liveConfig('hello')).toEqual({
      env: { SETTING_GREETING: 'hello' },
      files: { SETTING_GREETING: 'hello', greeting: 'hello from a file' },
    });
    expect((await deployCfg(image, 'bonjour')).outputs).toMatchObject({ revision: '2', change: 'config' });
    expect((await liveConfig('bonjour')).files?.greeting).toBe('bonjour from a file');
    expect((await deployCfg(image, 'hola')).outputs).toMatchObject({ revision: '3', change: 'config' });
    expect((await liveConfig('hola')).files?.greeting).toBe('hola from a file');
    // Revision 1 runs on no colour any more (blue took revision 3): deployed again from its snapshot.
    const back = await runAction(
      'verify-rollback',
      { kubeconfig: readFileSync(kubeconfig, 'utf8'), namespace, app: 'cfg', 'rollback-to': '1' },
      await loadEvent('workflow-dispatch'),
    );
    expect(back.log.split('\n').filter((line) => line.startsWith('::error'))).toEqual([]);
    expect(back.exitCode).toBe(0);
    expect(await liveConfig('hello')).toEqual({
      env: { SETTING_GREETING: 'hello' },
      files: { SETTING_GREETING: 'hello', greeting: 'hello from a file' },
    });
  }, 300_000);
});
