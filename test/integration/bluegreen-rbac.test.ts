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

function kubectl(args: string[], input?: string): string {
  const result = spawnSync('kubectl', ['--kubeconfig', admin, ...args], { encoding: 'utf8', input });
  if (result.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

beforeAll(() => {
  kubectl(['create', 'namespace', namespace]);
  kubectl(['apply', '-n', namespace, '-f', join(repoRoot, 'actions/bluegreen-deploy/rbac.yaml')]);
  const token = kubectl(['create', 'token', 'deploy-suite', '-n', namespace, '--duration=1h']).trim();
  const access = parseKubeconfig(readFileSync(admin, 'utf8'));
  kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters: [{name: local, cluster: {server: "' +
      access.server +
      '", certificate-authority-data: "' +
      Buffer.from(access.ca!).toString('base64') +
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
});
