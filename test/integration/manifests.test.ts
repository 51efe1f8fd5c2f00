// Apps as users ship them, on the real control plane: a Kustomize overlay (rendered by kustomize or
// kubectl kustomize) and a Helm chart (helm template), each with a ConfigMap, a Secret, an HPA, a PDB, a
// ServiceAccount and an Ingress. Deploy, flip, a change of configuration alone, rollbacks that bring the
// configuration back with the image, the dry run, and manifests that cannot deploy (nothing applied).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { createKubeClient, parseKubeconfig, readHistory, type KubeClient, type KubeObject } from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction, type ActionRun } from '../support/action-runner.js';
import { registerSecret } from '../support/capture.js';

const namespace = `apps-${randomBytes(3).toString('hex')}`;
const kubeconfigText = readFileSync(process.env.DEPLOY_SUITE_KUBECONFIG!, 'utf8');
const kubeconfig = Buffer.from(kubeconfigText).toString('base64');
const digest = (n: number) => `127.0.0.1:5000/shop/api@sha256:${String(n).repeat(64)}`;
const fixtures = join(repoRoot, 'test/fixtures/apps');
const KUSTOMIZE_SECRET = 'postgres://kshop:kustomize-db-pass-7f3a91@db/kshop';
const HELM_SECRET = 'postgres://hshop:helm-db-pass-c41d07@db/hshop';
// helm from the platform (users' runners have it on PATH, as kubectl with its kustomize).
const PATH = `${dirname(process.env.DEPLOY_SUITE_HELM!)}:${process.env.PATH}`;
let client: KubeClient;
let work: string;

type Deployment = KubeObject & {
  spec: {
    replicas: number;
    template: {
      spec: {
        serviceAccountName?: string;
        containers: {
          image: string;
          envFrom?: { configMapRef: { name: string } }[];
          env?: { name: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
        }[];
        volumes?: { configMap?: { name: string } }[];
      };
    };
  };
};

function action(name: string, inputs: Record<string, string>): Promise<ActionRun> {
  return loadEvent('push-default-branch').then((event) =>
    runAction(name, { kubeconfig, namespace, ...inputs }, event, { PATH }),
  );
}

/** What a colour's pods get from their ConfigMap (envFrom), read back from the cluster. */
async function modeOf(app: string, colour: string): Promise<string | undefined> {
  const d = await client.get<Deployment>('apps/v1', 'Deployment', namespace, `${app}-${colour}`);
  const name = d?.spec.template.spec.containers[0]?.envFrom?.[0]?.configMapRef.name;
  const map = name
    ? await client.get<KubeObject & { data: Record<string, string> }>('v1', 'ConfigMap', namespace, name)
    : undefined;
  return map?.data.MODE;
}

const selectorOf = async (name: string) =>
  (await client.get<KubeObject & { spec: { selector: Record<string, string> } }>('v1', 'Service', namespace, name))
    ?.spec.selector['deploy-suite.dev/colour'];

beforeAll(async () => {
  registerSecret(KUSTOMIZE_SECRET);
  registerSecret(HELM_SECRET);
  client = createKubeClient(parseKubeconfig(kubeconfigText));
  await client.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
  });
  // A copy of the fixtures inside the workspace, so a test can change the configuration.
  work = mkdtempSync(join(repoRoot, '.tmp', 'apps-'));
  cpSync(fixtures, work, { recursive: true });
});

afterAll(async () => {
  await client.delete('v1', 'Namespace', undefined, namespace).catch(() => undefined);
});

describe('a Kustomize overlay', () => {
  const overlay = () => relative(repoRoot, join(work, 'kustomize/overlays/prod'));
  const deploy = (n: number, extra: Record<string, string> = {}) =>
    action('bluegreen-deploy', { app: 'kshop', image: digest(n), manifests: overlay(), ...extra });

  it('deploys its Deployment as a colour, versions its ConfigMap and Secret, copies its HPA and PDB, applies the rest once', async () => {
    const run = await deploy(1);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ 'live-colour': 'blue', revision: '1', change: '' });
    expect(run.outputs.config).toMatch(/^[a-f0-9]{10}$/);
    expect(run.log).toMatch(/\[command\](kustomize build|kubectl kustomize) /);
    const blue = (await client.get<Deployment>('apps/v1', 'Deployment', namespace, 'kshop-blue'))!;
    expect(blue.spec.replicas).toBe(3); // the overlay's patch (and the HPA's minimum is 2)
    expect(blue.spec.template.spec.serviceAccountName).toBe('kshop');
    const container = blue.spec.template.spec.containers[0]!;
    expect(container.image).toBe(digest(1));
    // Kustomize's own hash suffix, then the suite's content hash: immutable, labelled for the prune.
    expect(container.envFrom![0]!.configMapRef.name).toMatch(/^kshop-env-[a-z0-9]{10}-[a-f0-9]{10}$/);
    const secretName = container.env![0]!.valueFrom!.secretKeyRef!.name;
    const secret = await client.get<KubeObject & { immutable: boolean }>('v1', 'Secret', namespace, secretName);
    expect(secret).toMatchObject({ immutable: true });
    expect(await modeOf('kshop', 'blue')).toBe('prod');
    expect(await client.get('autoscaling/v2', 'HorizontalPodAutoscaler', namespace, 'kshop-blue')).toMatchObject({
      spec: { scaleTargetRef: { name: 'kshop-blue' }, minReplicas: 2, maxReplicas: 6 },
    });
    expect(await client.get('policy/v1', 'PodDisruptionBudget', namespace, 'kshop-blue')).toMatchObject({
      spec: { selector: { matchLabels: { 'deploy-suite.dev/colour': 'blue' } } },
    });
    await client.discover([{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' }]);
    expect(await client.get('networking.k8s.io/v1', 'Ingress', namespace, 'kshop')).toMatchObject({
      spec: { rules: [{ host: 'kshop.example.test' }] },
    });
    expect(await client.get('v1', 'ServiceAccount', namespace, 'kshop')).toBeDefined();
    // The user's own Deployment and Service names are not objects of their own: the colours and the live Service are.
    expect(await client.get('apps/v1', 'Deployment', namespace, 'kshop')).toBeUndefined();
    expect(await selectorOf('kshop')).toBe('blue');
    expect(run.summary).toMatch(/2 versioned ConfigMaps\/Secrets, an HPA, 1 PDBs per colour, 2 shared objects/);
    // The migration ran to completion before the switch, with the release's image and the revision's Secret.
    const migrate = await client.get<KubeObject & { status: { succeeded?: number }; spec: Deployment['spec'] }>(
      'batch/v1',
      'Job',
      namespace,
      'kshop-migrate-r1',
    );
    expect(migrate?.status.succeeded).toBe(1);
    expect(migrate!.spec.template.spec.containers[0]!.image).toBe(digest(1));
    expect(migrate!.spec.template.spec.containers[0]!.env![0]!.valueFrom!.secretKeyRef!.name).toBe(secretName);
    expect(run.log).toMatch(/hook kshop-migrate-r1: complete in/);
    expect(run.summary).toMatch(/Pre-switch hooks.*kshop-migrate-r1<\/code>: complete/s);
  });

  it('a new image flips to green with the same configuration; the same image and configuration again is a no-op', async () => {
    const first = await deploy(2);
    expect(first.outputs).toMatchObject({ 'live-colour': 'green', revision: '2', change: 'image', noop: 'false' });
    expect(await modeOf('kshop', 'green')).toBe('prod');
    const again = await deploy(2);
    expect(again.outputs).toMatchObject({ 'live-colour': 'green', revision: '2', noop: 'true' });
  });

  it('a change of configuration alone is a new revision on the idle colour; the live one keeps its own', async () => {
    const file = join(work, 'kustomize/overlays/prod/kustomization.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('MODE=prod', 'MODE=prod-2'));
    const run = await deploy(2);
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({
      'live-colour': 'blue',
      revision: '3',
      change: 'config',
      digest: digest(2).split('@')[1],
    });
    expect(await modeOf('kshop', 'blue')).toBe('prod-2');
    expect(await modeOf('kshop', 'green')).toBe('prod');
    const history = await readHistory(client, namespace, 'kshop');
    expect(history.map((h) => [h.revision, h.config])).toEqual([
      [3, run.outputs.config],
      [2, expect.any(String)],
      [1, history[1]!.config],
    ]);
  });

  it('rollback-to a revision no colour runs brings back its configuration with its image', async () => {
    const run = await action('verify-rollback', { app: 'kshop', 'rollback-to': '1' });
    expect(run.exitCode).toBe(0);
    // Revision 1 (digest 1, MODE=prod) ran on blue, which revision 3 took: deployed to green from its snapshot.
    expect(await selectorOf('kshop')).toBe('green');
    const green = (await client.get<Deployment>('apps/v1', 'Deployment', namespace, 'kshop-green'))!;
    expect(green.spec.template.spec.containers[0]!.image).toBe(digest(1));
    expect(await modeOf('kshop', 'green')).toBe('prod');
    expect(await modeOf('kshop', 'blue')).toBe('prod-2');
  });

  it('a dry run lists every object it would apply and never shows a Secret value', async () => {
    const file = join(work, 'kustomize/overlays/prod/kustomization.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('MODE=prod-2', 'MODE=prod-3'));
    const run = await deploy(3, { 'dry-run': 'true' });
    expect(run.exitCode).toBe(0);
    for (const object of [
      'ConfigMap kshop-env-',
      'Secret kshop-db-',
      'Deployment kshop-blue',
      'HorizontalPodAutoscaler kshop-blue',
      'PodDisruptionBudget kshop-blue',
      'Ingress kshop',
      'ServiceAccount kshop',
      'Service kshop',
    ])
      expect(run.summary).toContain(object);
    expect(run.shown + run.summary).not.toContain(KUSTOMIZE_SECRET);
    expect(run.summary).not.toContain(Buffer.from(KUSTOMIZE_SECRET).toString('base64'));
    expect(await selectorOf('kshop')).toBe('green');
  });

  it('a colour scaled down parks its HPA (Kubernetes stops autoscaling a Deployment at zero); a rollback scales it back and the HPA takes it again', async () => {
    type Hpa = KubeObject & { status?: { conditions?: { type: string; status: string; reason: string }[] } };
    const scalingActive = async (name: string) =>
      (await client.get<Hpa>('autoscaling/v2', 'HorizontalPodAutoscaler', namespace, name))?.status?.conditions?.find(
        (c) => c.type === 'ScalingActive',
      );
    /** Polls (every second, 45 s at most: the HPA controller syncs every 15 s) until `until` holds. */
    const awaitCondition = async (name: string, until: (reason?: string) => boolean) => {
      let condition = await scalingActive(name);
      for (let i = 0; i < 45 && !until(condition?.reason); i++) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        condition = await scalingActive(name);
      }
      return condition;
    };
    const replicasOf = async (name: string) =>
      (await client.get<Deployment>('apps/v1', 'Deployment', namespace, name))?.spec.replicas;
    const run = await deploy(3, { 'scale-down-delay': '1s' });
    expect(run.exitCode).toBe(0);
    expect(run.outputs).toMatchObject({ 'live-colour': 'blue', 'previous-scaled-down': 'true' });
    expect(await awaitCondition('kshop-green', (reason) => reason === 'ScalingDisabled')).toMatchObject({
      status: 'False',
      reason: 'ScalingDisabled',
    });
    expect(await replicasOf('kshop-green')).toBe(0); // the HPA's minimum (2) does not bring it back
    const back = await action('verify-rollback', { app: 'kshop', 'rollback-to': 'previous' });
    expect(back.exitCode).toBe(0);
    expect(back.outputs).toMatchObject({ 'live-colour': 'green' });
    expect(await replicasOf('kshop-green')).toBe(3);
    expect(
      await awaitCondition('kshop-green', (reason) => reason !== undefined && reason !== 'ScalingDisabled'),
    ).not.toMatchObject({
      reason: 'ScalingDisabled',
    });
  }, 150_000);
});

describe('a Helm chart', () => {
  const chart = () => relative(repoRoot, join(work, 'chart'));
  const deploy = (n: number, extra: Record<string, string> = {}) =>
    action('bluegreen-deploy', { app: 'hshop', image: digest(n), manifests: chart(), ...extra });

  it('renders with its values and --set, deploys, and a --set change alone is a new revision', async () => {
    const values = join(work, 'hshop-prod.yaml');
    writeFileSync(values, 'mode: prod\nreplicas: 3\n');
    const first = await deploy(1, { 'helm-values': relative(repoRoot, values), 'helm-set': 'greeting=hi' });
    expect(first.exitCode).toBe(0);
    expect(first.log).toContain('[command]helm template hshop');
    expect(first.outputs).toMatchObject({ 'live-colour': 'blue', revision: '1' });
    expect(await modeOf('hshop', 'blue')).toBe('prod');
    const blue = (await client.get<Deployment>('apps/v1', 'Deployment', namespace, 'hshop-blue'))!;
    expect(blue.spec.replicas).toBe(3);
    expect(blue.spec.template.spec.volumes![0]!.configMap!.name).toMatch(/^hshop-files-[a-f0-9]{10}$/);
    const second = await deploy(1, { 'helm-values': relative(repoRoot, values), 'helm-set': 'mode=canary' });
    expect(second.outputs).toMatchObject({ 'live-colour': 'green', revision: '2', change: 'config' });
    expect(await modeOf('hshop', 'green')).toBe('canary');
    expect(second.shown + second.summary + JSON.stringify(second.outputs)).not.toContain(HELM_SECRET);
  });

  it('rollback to the previous revision of the same image switches back to its configuration', async () => {
    const run = await action('verify-rollback', { app: 'hshop', 'rollback-to': 'previous' });
    expect(run.exitCode).toBe(0);
    expect(await selectorOf('hshop')).toBe('blue');
    expect(await modeOf('hshop', 'blue')).toBe('prod');
  });
});

describe('pre-switch hooks that fail or never finish', () => {
  const app = 'hooked';
  const manifests = (hookLabels: string) => {
    const dir = mkdtempSync(join(work, 'hooked-'));
    writeFileSync(
      join(dir, 'app.yaml'),
      [
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${app}}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: ${app}}}\n  template:\n    metadata: {labels: {app: ${app}}}\n    spec: {containers: [{name: web, image: x}]}`,
        `apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate, annotations: {deploy-suite.dev/hook: pre-switch}}\nspec:\n  backoffLimit: 0\n  template:\n    metadata: {labels: {${hookLabels}}}\n    spec: {restartPolicy: Never, containers: [{name: m, image: x}]}`,
      ].join('\n---\n'),
    );
    return relative(repoRoot, dir);
  };
  const deploy = (n: number, hookLabels: string, extra: Record<string, string> = {}) =>
    action('bluegreen-deploy', { app, image: digest(n), manifests: manifests(hookLabels), ...extra });

  it('a hook that fails stops the release before the switch; live untouched; a re-run replaces it and converges', async () => {
    expect((await deploy(1, 'ok: "yes"')).exitCode).toBe(0);
    const failed = await deploy(2, 'deploy-suite.test/fail: "true"');
    expect(failed.exitCode).toBe(1);
    expect(failed.log).toMatch(/::error::hooks: the pre-switch hook Job migrate-r2 failed \(BackoffLimitExceeded/);
    expect(failed.summary).toMatch(/bluegreen-deploy failed.*migrate-r2 failed.*live traffic stays on blue/s);
    expect(await selectorOf(app)).toBe('blue');
    expect(await selectorOf(`${app}-preview`)).toBe('green');
    const fixed = await deploy(2, 'ok: "yes"');
    expect(fixed.exitCode).toBe(0);
    expect(fixed.log).toContain('hook migrate-r2: replacing the earlier try');
    expect(fixed.outputs).toMatchObject({ 'live-colour': 'green', revision: '2' });
  });

  it('a hook that never finishes times out at hook-timeout: the release stops, live untouched', async () => {
    const run = await deploy(3, 'deploy-suite.test/hold-not-ready: "true"', { 'hook-timeout': '3s' });
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(/migrate-r3 timed out \(DeadlineExceeded/);
    expect(run.log).toMatch(/raise hook-timeout/);
    expect(await selectorOf(app)).toBe('green');
  });
});

describe('post-rollback hooks', () => {
  it('run after verify-rollback switches back, from the revision rolled back to', async () => {
    const dir = mkdtempSync(join(work, 'post-'));
    writeFileSync(
      join(dir, 'app.yaml'),
      [
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: phook}\nspec:\n  selector: {matchLabels: {app: phook}}\n  template:\n    metadata: {labels: {app: phook}}\n    spec: {containers: [{name: web, image: x}]}',
        "apiVersion: batch/v1\nkind: Job\nmetadata: {name: restore-cache, annotations: {helm.sh/hook: post-rollback}}\nspec:\n  template:\n    spec: {restartPolicy: Never, containers: [{name: c, image: x, args: ['restore']}]}",
      ].join('\n---\n'),
    );
    for (const n of [1, 2])
      expect(
        (await action('bluegreen-deploy', { app: 'phook', image: digest(n), manifests: relative(repoRoot, dir) }))
          .exitCode,
      ).toBe(0);
    const run = await action('verify-rollback', { app: 'phook', 'rollback-to': 'previous' });
    expect(run.exitCode).toBe(0);
    expect(run.log).toMatch(/hook restore-cache-r3: complete/);
    expect(run.summary).toMatch(/post-rollback hooks: <code>restore-cache-r3<\/code> complete/);
    const job = await client.get<KubeObject & { status: { succeeded?: number }; spec: Deployment['spec'] }>(
      'batch/v1',
      'Job',
      namespace,
      'restore-cache-r3',
    );
    expect(job?.status.succeeded).toBe(1);
    expect(job!.spec.template.spec.containers[0]!.image).toBe(digest(1));
  });
});

describe('app secrets from repository secrets', () => {
  const API_KEY = 'sk-live-51Hx2eZvKYlo2C9';
  const DATABASE_URL = 'postgres://app:pw-0c9a44e1@db.internal/app';
  const deploy = (n: number, apiKey: string) =>
    action('bluegreen-deploy', {
      app: 'sshop',
      image: digest(n),
      'app-secrets': `# production\nAPI_KEY=${apiKey}\nexport DATABASE_URL="${DATABASE_URL}"\n`,
    });
  /** What a colour's pods get from the app-secrets Secret, decoded. */
  async function secretOf(colour: string): Promise<Record<string, string>> {
    const d = await client.get<Deployment>('apps/v1', 'Deployment', namespace, `sshop-${colour}`);
    const name = (d!.spec.template.spec.containers[0] as { envFrom?: { secretRef?: { name: string } }[] }).envFrom?.[0]
      ?.secretRef?.name;
    const secret = await client.get<KubeObject & { data: Record<string, string> }>('v1', 'Secret', namespace, name!);
    return Object.fromEntries(Object.entries(secret!.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  }

  it('become a Secret of the revision, the pods’ environment, masked everywhere; a new value is a new revision', async () => {
    registerSecret(API_KEY);
    registerSecret(`${API_KEY}-rotated`);
    registerSecret(DATABASE_URL);
    const first = await deploy(1, API_KEY);
    expect(first.exitCode).toBe(0);
    expect(await secretOf('blue')).toEqual({ API_KEY, DATABASE_URL });
    const rotated = await deploy(1, `${API_KEY}-rotated`);
    expect(rotated.outputs).toMatchObject({ 'live-colour': 'green', revision: '2', change: 'config' });
    expect(await secretOf('green')).toEqual({ API_KEY: `${API_KEY}-rotated`, DATABASE_URL });
    for (const run of [first, rotated]) {
      const shown = run.shown + run.summary + JSON.stringify(run.outputs);
      for (const value of [API_KEY, DATABASE_URL, Buffer.from(API_KEY).toString('base64')])
        expect(shown).not.toContain(value);
    }
  });

  it('a rollback brings back the secret values the revision ran with', async () => {
    const run = await action('verify-rollback', { app: 'sshop', 'rollback-to': 'previous' });
    expect(run.exitCode).toBe(0);
    expect(await selectorOf('sshop')).toBe('blue');
    expect((await secretOf('blue')).API_KEY).toBe(API_KEY);
  });
});

describe('manifests that cannot deploy: an input error, nothing applied', () => {
  const attempt = (inputs: Record<string, string>) =>
    action('bluegreen-deploy', { app: 'broken', image: digest(1), ...inputs });

  it('a chart that does not render names helm and its error', async () => {
    const run = await attempt({ manifests: 'test/fixtures/apps/broken-chart' });
    expect(run.exitCode).not.toBe(0);
    expect(run.log).toMatch(
      /input 'manifests': helm template test\/fixtures\/apps\/broken-chart failed.*replicas is required/,
    );
    expect(await client.get('v1', 'Service', namespace, 'broken')).toBeUndefined();
  });

  it('a kind the cluster does not serve (a CRD not installed) is named', async () => {
    const dir = mkdtempSync(join(work, 'crd-'));
    cpSync(join(fixtures, 'kustomize/base/deployment.yaml'), join(dir, 'deployment.yaml'));
    writeFileSync(join(dir, 'widget.yaml'), 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n');
    const run = await attempt({ app: 'kshop', manifests: relative(repoRoot, dir) });
    expect(run.exitCode).not.toBe(0);
    expect(run.log).toMatch(/input 'manifests': the API server serves no Widget \(example.com\/v1\)/);
  });

  it('a Secret the pod template names that neither the manifests nor the namespace hold stops before anything is applied', async () => {
    const dir = mkdtempSync(join(work, 'missing-'));
    writeFileSync(
      join(dir, 'app.yaml'),
      readFileSync(join(fixtures, 'kustomize/base/deployment.yaml'), 'utf8').replace(/kshop/g, 'lonely'),
    );
    const run = await attempt({ app: 'lonely', manifests: relative(repoRoot, dir) });
    expect(run.exitCode).not.toBe(0);
    expect(run.log).toMatch(/names Secret lonely-db, ConfigMap lonely-env, which neither the manifests nor namespace/);
    expect(await client.get('apps/v1', 'Deployment', namespace, 'lonely-blue')).toBeUndefined();
    expect(await client.get('v1', 'ServiceAccount', namespace, 'lonely')).toBeUndefined();
  });
});
