// bluegreen-deploy with the least privilege it ships: a service-account token bound only to
// actions/bluegreen-deploy/rbac.yaml deploys, flips, dry-runs and takes the lock; it cannot read Secrets.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKubeconfig } from '@deploy-suite/kube';
import { loadEvent, repoRoot, runAction } from '../support/action-runner.js';

const admin = process.env.DEPLOY_SUITE_KUBECONFIG!;
const namespace = `rbac-${randomBytes(3).toString('hex')}`;
let kubeconfig = '';
let shortKubeconfig = '';
let missingNamespaceKubeconfig = '';
let revokedKubeconfig = '';

function kubectl(args: string[], input?: string): string {
  const result = spawnSync('kubectl', ['--kubeconfig', admin, ...args], { encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  kubectl(['create', 'namespace', namespace]);
  kubectl(['apply', '-n', namespace, '-f', join(repoRoot, 'actions/bluegreen-deploy/rbac.yaml')]);
  const token = kubectl(['create', 'token', 'deploy-suite', '-n', namespace, '--duration=1h']).trim();
  // A second identity whose Role lacks one right (patch services): what a Role copied from an older release looks like.
  const rbac = readFileSync(join(repoRoot, 'actions/bluegreen-deploy/rbac.yaml'), 'utf8');
  kubectl(
    ['apply', '-n', namespace, '-f', '-'],
    rbac
      .replace(/deploy-suite-bluegreen/g, 'short-role')
      .replace(/name: deploy-suite$/gm, 'name: short-handed')
      .replace(
        "resources: ['services', 'configmaps']\n    verbs: ['get', 'create', 'patch']",
        "resources: ['services', 'configmaps']\n    verbs: ['get', 'create']",
      ),
  );
  const shortToken = kubectl(['create', 'token', 'short-handed', '-n', namespace, '--duration=1h']).trim();
  const access = parseKubeconfig(readFileSync(admin, 'utf8'));
  const ca = Buffer.from((await access.credentials()).tls.ca as Buffer).toString('base64');
  const config = (user: string, ns = namespace) =>
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: local, cluster: {server: "${access.server}", certificate-authority-data: "${ca}"}}]`,
      `contexts: [{name: ci, context: {cluster: local, user: deployer, namespace: ${ns}}}]`,
      'current-context: ci',
      `users: [{name: deployer, user: {token: "${user}"}}]`,
    ].join('\n');
  shortKubeconfig = config(shortToken);
  missingNamespaceKubeconfig = config(token, `${namespace}-gone`);
  revokedKubeconfig = config(`${token.slice(0, -8)}AAAAAAAA`);
  kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: local, cluster: {server: "' +
      access.server +
      '", certificate-authority-data: "' +
      Buffer.from((await access.credentials()).tls.ca as Buffer).toString('base64') +
      '"}}]',
    `contexts: [{name: ci, context: {cluster: local, user: deployer, namespace: ${namespace}}}]`,
    'current-context: ci',
    `users: [{name: deployer, user: {token: "${token}"}}]`,
  ].join('\n');
});

afterAll(() => {
  kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

describe('bluegreen-deploy with only its Role', () => {
  it('the token may do what the Role grants and nothing more', () => {
    const can = (verb: string, resource: string) =>
      spawnSync(
        'kubectl',
        [
          '--kubeconfig',
          admin,
          'auth',
          'can-i',
          verb,
          resource,
          '-n',
          namespace,
          `--as=system:serviceaccount:${namespace}:deploy-suite`,
        ],
        { encoding: 'utf8' },
      ).stdout.trim();
    expect(can('patch', 'deployments.apps')).toBe('yes');
    expect(can('get', 'secrets')).toBe('no');
    expect(can('delete', 'deployments.apps')).toBe('no');
    expect(can('create', 'pods/exec')).toBe('no');
  });

  it('deploys, flips, and dry-runs with that token alone', async () => {
    const event = await loadEvent('push-default-branch');
    const image = (n: number) => `127.0.0.1:5000/shop/api@sha256:${String(n).repeat(64)}`;
    const first = await runAction('bluegreen-deploy', { kubeconfig, app: 'api', image: image(1) }, event);
    expect(first.exitCode).toBe(0);
    expect(first.outputs['live-colour']).toBe('blue');
    const second = await runAction('bluegreen-deploy', { kubeconfig, app: 'api', image: image(2) }, event);
    expect(second.exitCode).toBe(0);
    expect(second.outputs['live-colour']).toBe('green');
    const dry = await runAction(
      'bluegreen-deploy',
      { kubeconfig, app: 'api', image: image(3), 'dry-run': 'true' },
      event,
    );
    expect(dry.exitCode).toBe(0);
    expect(dry.summary).toContain('Deployment api-blue');
  });

  it.each([
    [
      'a Role without one right',
      () => ({ kubeconfig: shortKubeconfig }),
      /input 'kubeconfig': user 'deployer' of context 'ci' may not patch services, patch configmaps in namespace 'rbac-\w+'; nothing was changed\. Fix: .*kubectl apply -n rbac-\w+ -f actions\/bluegreen-deploy\/rbac\.yaml/,
    ],
    [
      'a namespace the token has no rights in (or that does not exist)',
      () => ({ kubeconfig: missingNamespaceKubeconfig }),
      /input 'kubeconfig': user 'deployer' of context 'ci' may do nothing the run needs in namespace 'rbac-\w+-gone' \(an identity with rights in one namespace sees a namespace that does not exist the same way\)/,
    ],
    [
      'a namespace that does not exist (an identity that may read namespaces)',
      () => ({ kubeconfig: readFileSync(admin, 'utf8'), namespace: `${namespace}-gone` }),
      /input 'namespace': namespace 'rbac-\w+-gone' does not exist .*Fix: create it \(kubectl create namespace/,
    ],
    [
      'a token the cluster refuses',
      () => ({ kubeconfig: revokedKubeconfig }),
      /input 'kubeconfig': the cluster refused the credential of user 'deployer' .*401/,
    ],
  ])('%s: refused before anything changes, naming the input and the fix', async (_what, config, message) => {
    const event = await loadEvent('push-default-branch');
    const run = await runAction(
      'bluegreen-deploy',
      { ...config(), app: 'refused', image: `127.0.0.1:5000/shop/api@sha256:${'7'.repeat(64)}` },
      event,
    );
    expect(run.exitCode).toBe(1);
    expect(run.log).toMatch(message);
    expect([...run.log.matchAll(/^::group::(.*)$/gm)]).toEqual([]);
    expect(kubectl(['get', 'deployments,services,leases,configmaps', '-n', namespace, '-o', 'name'])).not.toContain(
      'refused',
    );
  });
});
